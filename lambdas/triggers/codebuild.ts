/** CodeBuild build state changes: every completed status ends a build, `IN_PROGRESS` starts one. */
import { z } from 'zod';
import { normalizeWorkloadId } from '../shared/domain/workload-id.ts';
import { DetailString } from './envelope.ts';
import { type Classification, detail, type Env, ended, expectKind, ignored, started } from './shared.ts';
import type { TriggerModule } from './trigger.ts';

const SOURCE = 'aws.codebuild';
const DETAIL_TYPE = 'CodeBuild Build State Change';

/**
 * Every `build-status` a completed build reports (CodeBuild's StatusType but IN_PROGRESS): a build
 * that ends FAULT or TIMED_OUT held credentials as much as one that SUCCEEDED.
 */
export const CODEBUILD_COMPLETED_STATUSES = ['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'] as const;
const COMPLETED: ReadonlySet<string> = new Set(CODEBUILD_COMPLETED_STATUSES);

export const CodeBuildStateChangeDetailSchema = z.looseObject({
  'build-status': DetailString,
  'build-id': DetailString,
  'project-name': DetailString.optional(),
});

function classify(env: Env): Classification {
  const d = detail(env, CodeBuildStateChangeDetailSchema);
  const status = d['build-status'];
  const workload = expectKind(normalizeWorkloadId(d['build-id']), 'codebuild', d['build-id']);
  if (COMPLETED.has(status)) return ended(env, workload, `codebuild:${status}`);
  if (status === 'IN_PROGRESS') return started(env, workload);
  return ignored(env, `codebuild build status ${status} is not tracked`);
}

export const codeBuildStateChange: TriggerModule = {
  name: 'codebuild-build-state-change',
  source: SOURCE,
  detailType: DETAIL_TYPE,
  bus: 'default',
  end: {
    id: 'CodeBuildEnded',
    pattern: () => ({
      source: [SOURCE],
      detailType: [DETAIL_TYPE],
      detail: { 'build-status': [...CODEBUILD_COMPLETED_STATUSES] },
    }),
  },
  start: {
    id: 'CodeBuildStarted',
    pattern: () => ({
      source: [SOURCE],
      detailType: [DETAIL_TYPE],
      detail: { 'build-status': ['IN_PROGRESS'] },
    }),
  },
  detailSchema: CodeBuildStateChangeDetailSchema,
  classify,
};
