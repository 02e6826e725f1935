/** EC2 instance state changes: `shutting-down`/`terminated` (and `stopped`, if so configured) end an instance, `running` starts one. */
import { z } from 'zod';
import { DetailString } from './envelope.ts';
import { type Classification, detail, type Env, ec2Workload, ended, ignored, started } from './shared.ts';
import type { TriggerModule } from './trigger.ts';

const SOURCE = 'aws.ec2';
const DETAIL_TYPE = 'EC2 Instance State-change Notification';

export const EC2_INSTANCE_STATES = [
  'pending',
  'running',
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
] as const;

export const Ec2StateChangeDetailSchema = z.looseObject({
  'instance-id': DetailString,
  state: z.enum(EC2_INSTANCE_STATES),
});

function classify(env: Env): Classification {
  const d = detail(env, Ec2StateChangeDetailSchema);
  const state = d.state;
  if (state === 'shutting-down' || state === 'terminated') {
    return ended(env, ec2Workload(env, d['instance-id']), `ec2:${state}`);
  }
  if (state === 'stopped') {
    if (!env.ctx.stoppedEndsWorkload)
      return ignored(env, 'ec2 instance stopped; stop does not end the workload');
    // A stopped instance restarts under the same ID, so its session name will come back.
    const workload = { ...ec2Workload(env, d['instance-id']), reusableSessionName: true };
    return ended(env, workload, 'ec2:stopped');
  }
  if (state === 'running') return started(env, ec2Workload(env, d['instance-id']));
  return ignored(env, `ec2 instance state ${state} is transitional`);
}

export const ec2InstanceStateChange: TriggerModule = {
  name: 'ec2-instance-state-change',
  source: SOURCE,
  detailType: DETAIL_TYPE,
  bus: 'default',
  end: {
    id: 'Ec2InstanceEnded',
    pattern: (opts) => ({
      source: [SOURCE],
      detailType: [DETAIL_TYPE],
      detail: { state: ['shutting-down', 'terminated', ...(opts.stoppedEndsWorkload ? ['stopped'] : [])] },
    }),
  },
  start: {
    id: 'Ec2InstanceRunning',
    pattern: () => ({ source: [SOURCE], detailType: [DETAIL_TYPE], detail: { state: ['running'] } }),
  },
  detailSchema: Ec2StateChangeDetailSchema,
  classify,
};
