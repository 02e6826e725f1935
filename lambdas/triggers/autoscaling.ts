/** Auto Scaling's "EC2 Instance Terminate Successful": the instance it terminated has ended. */
import { z } from 'zod';
import { DetailString } from './envelope.ts';
import { type Classification, detail, type Env, ec2Workload, ended } from './shared.ts';
import type { TriggerModule } from './trigger.ts';

const SOURCE = 'aws.autoscaling';
const DETAIL_TYPE = 'EC2 Instance Terminate Successful';

export const AutoScalingTerminateDetailSchema = z.looseObject({
  EC2InstanceId: DetailString,
  AutoScalingGroupName: DetailString.optional(),
  ActivityId: DetailString.optional(),
  StatusCode: DetailString.optional(),
  Cause: z.string().max(4096).optional(),
});

function classify(env: Env): Classification {
  const d = detail(env, AutoScalingTerminateDetailSchema);
  return ended(env, ec2Workload(env, d.EC2InstanceId), 'autoscaling:terminate-successful');
}

export const autoScalingTerminate: TriggerModule = {
  name: 'autoscaling-terminate',
  source: SOURCE,
  detailType: DETAIL_TYPE,
  bus: 'default',
  end: {
    id: 'AutoScalingTerminated',
    pattern: () => ({ source: [SOURCE], detailType: [DETAIL_TYPE] }),
  },
  detailSchema: AutoScalingTerminateDetailSchema,
  classify,
};
