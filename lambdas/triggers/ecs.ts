/** ECS task state changes: a task `STOPPED` has ended, one `RUNNING` (and meant to) has started. */
import { z } from 'zod';
import { normalizeWorkloadId } from '../shared/domain/workload-id.ts';
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

const SOURCE = 'aws.ecs';
const DETAIL_TYPE = 'ECS Task State Change';

export const EcsTaskStateChangeDetailSchema = z.looseObject({
  taskArn: DetailString,
  clusterArn: DetailString.optional(),
  lastStatus: DetailString,
  desiredStatus: DetailString.optional(),
  group: DetailString.optional(),
  startedBy: DetailString.optional(),
  stoppedReason: z.string().max(4096).optional(),
  stopCode: DetailString.optional(),
  taskDefinitionArn: DetailString.optional(),
  launchType: DetailString.optional(),
  overrides: z.looseObject({ taskRoleArn: DetailString.optional() }).optional(),
  version: z.number().int().optional(),
});

function classify(env: Env): Classification {
  const d = detail(env, EcsTaskStateChangeDetailSchema);
  const workload = expectKind(normalizeWorkloadId(d.taskArn), 'ecs', d.taskArn);
  if (d.lastStatus === 'STOPPED') {
    return ended(env, workload, `ecs:${d.stopCode ?? 'stopped'}`, {
      roleHint: { roleArn: validRoleArn(d.overrides?.taskRoleArn), taskDefinitionArn: d.taskDefinitionArn },
    });
  }
  if (d.lastStatus === 'RUNNING') {
    if (d.desiredStatus === 'STOPPED') return ignored(env, 'ecs task is running but already desired STOPPED');
    return started(env, workload, {
      roleArn: validRoleArn(d.overrides?.taskRoleArn),
      taskDefinitionArn: d.taskDefinitionArn,
    });
  }
  return ignored(env, `ecs task status ${d.lastStatus} is neither RUNNING nor STOPPED`);
}

export const ecsTaskStateChange: TriggerModule = {
  name: 'ecs-task-state-change',
  source: SOURCE,
  detailType: DETAIL_TYPE,
  bus: 'default',
  end: {
    id: 'EcsTaskStopped',
    pattern: () => ({ source: [SOURCE], detailType: [DETAIL_TYPE], detail: { lastStatus: ['STOPPED'] } }),
  },
  start: {
    id: 'EcsTaskRunning',
    pattern: () => ({ source: [SOURCE], detailType: [DETAIL_TYPE], detail: { lastStatus: ['RUNNING'] } }),
  },
  detailSchema: EcsTaskStateChangeDetailSchema,
  classify,
};
