/** Batch job state changes: `SUCCEEDED`/`FAILED` end a job, `STARTING`/`RUNNING` start its container. */
import { z } from 'zod';
import {
  normalizeWorkloadId,
  sessionNameForWorkload,
  UNKNOWN_SESSION_NAME,
} from '../shared/domain/workload-id.ts';
import { DetailString } from './envelope.ts';
import {
  type Classification,
  detail,
  type Env,
  ended,
  expectKind,
  ignored,
  started,
  validRoleArn,
} from './shared.ts';
import type { TriggerModule } from './trigger.ts';

const SOURCE = 'aws.batch';
const DETAIL_TYPE = 'Batch Job State Change';

export const BatchJobStateChangeDetailSchema = z.looseObject({
  jobArn: DetailString,
  jobId: DetailString.optional(),
  jobName: DetailString.optional(),
  jobQueue: DetailString.optional(),
  status: DetailString,
  statusReason: z.string().max(4096).optional(),
  container: z
    .looseObject({ taskArn: DetailString.optional(), jobRoleArn: DetailString.optional() })
    .optional(),
});

function classify(env: Env): Classification {
  const d = detail(env, BatchJobStateChangeDetailSchema);
  const job = expectKind(normalizeWorkloadId(d.jobArn), 'batch', d.jobArn);
  const taskArn = d.container?.taskArn;
  if (d.status === 'SUCCEEDED' || d.status === 'FAILED') {
    // Without a task ARN the session name stays UNKNOWN_SESSION_NAME; the caller resolves it.
    let sessionName = UNKNOWN_SESSION_NAME;
    try {
      sessionName = sessionNameForWorkload(job, { batchTaskArn: taskArn });
    } catch {
      // A malformed task ARN must not lose the end of the job.
    }
    return ended(env, { ...job, sessionName }, `batch:${d.status}`, {
      roleHint: { roleArn: validRoleArn(d.container?.jobRoleArn) },
    });
  }
  if (d.status === 'RUNNING' || d.status === 'STARTING') {
    if (!taskArn) return ignored(env, `batch job ${d.status} has no container.taskArn yet`);
    const sessionName = sessionNameForWorkload(job, { batchTaskArn: taskArn });
    return started(env, { ...job, sessionName }, { roleArn: validRoleArn(d.container?.jobRoleArn) });
  }
  return ignored(env, `batch job status ${d.status} neither starts nor ends a container`);
}

export const batchJobStateChange: TriggerModule = {
  name: 'batch-job-state-change',
  source: SOURCE,
  detailType: DETAIL_TYPE,
  bus: 'default',
  end: {
    id: 'BatchJobEnded',
    pattern: () => ({
      source: [SOURCE],
      detailType: [DETAIL_TYPE],
      detail: { status: ['SUCCEEDED', 'FAILED'] },
    }),
  },
  start: {
    id: 'BatchJobRunning',
    pattern: () => ({
      source: [SOURCE],
      detailType: [DETAIL_TYPE],
      detail: { status: ['STARTING', 'RUNNING'] },
    }),
  },
  detailSchema: BatchJobStateChangeDetailSchema,
  classify,
};
