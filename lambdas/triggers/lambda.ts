/**
 * Lambda functions, through CloudTrail's record of their API calls: `DeleteFunction` ends a
 * function, `CreateFunction`/`UpdateFunctionConfiguration` start (or re-role) one.
 */
import { z } from 'zod';
import { normalizeWorkloadId, partitionForRegion, type Workload } from '../shared/domain/workload-id.ts';
import { DetailString } from './envelope.ts';
import {
  type Classification,
  detail,
  type Env,
  ended,
  expectKind,
  ignored,
  quote,
  Reject,
  started,
  validRoleArn,
} from './shared.ts';
import type { TriggerModule } from './trigger.ts';

const SOURCE = 'aws.lambda';
/** CloudTrail's detail-type for every service's API calls (not only Lambda's). */
export const CLOUDTRAIL_API_CALL = 'AWS API Call via CloudTrail';
const EVENT_SOURCE = 'lambda.amazonaws.com';

/** CloudTrail records Lambda API calls; `requestParameters`/`responseElements` are null on errors. */
export const LambdaCloudTrailDetailSchema = z.looseObject({
  eventSource: DetailString,
  eventName: DetailString,
  eventTime: DetailString.optional(),
  awsRegion: DetailString.optional(),
  recipientAccountId: DetailString.optional(),
  errorCode: DetailString.optional(),
  requestParameters: z
    .looseObject({
      functionName: DetailString.optional(),
      role: DetailString.optional(),
      qualifier: DetailString.optional(),
    })
    .nullish(),
  responseElements: z
    .looseObject({ functionArn: DetailString.optional(), role: DetailString.optional() })
    .nullish(),
});

/**
 * CloudTrail suffixes Lambda event names with the API version, sometimes plus `v2`
 * (`DeleteFunction20150331`, `UpdateFunctionConfiguration20150331v2`); plain names appear too.
 */
export const LAMBDA_DELETE_EVENT = /^DeleteFunction(?:\d{8}(?:v\d+)?)?$/;
export const LAMBDA_START_EVENT = /^(?:CreateFunction|UpdateFunctionConfiguration)(?:\d{8}(?:v\d+)?)?$/;

function classify(env: Env): Classification {
  const d = detail(env, LambdaCloudTrailDetailSchema);
  if (d.eventSource !== EVENT_SOURCE) return ignored(env, `cloudtrail event from ${quote(d.eventSource)}`);
  if (d.errorCode) return ignored(env, `lambda ${d.eventName} failed with ${d.errorCode}; nothing changed`);
  const isDelete = LAMBDA_DELETE_EVENT.test(d.eventName);
  if (!isDelete && !LAMBDA_START_EVENT.test(d.eventName))
    return ignored(env, `lambda ${d.eventName} is not tracked`);
  const ref = d.responseElements?.functionArn ?? d.requestParameters?.functionName;
  if (!ref) throw new Reject(`lambda ${d.eventName} event names no function`);
  const account = d.recipientAccountId ?? env.envelope.account ?? env.ctx.account;
  const region = d.awsRegion ?? env.envelope.region;
  const { workload, qualifier } = lambdaFunction(ref, account, region, env.ctx.partition);
  if (isDelete) {
    const q = qualifier ?? d.requestParameters?.qualifier;
    if (q) return ignored(env, `lambda DeleteFunction removed only version or alias ${quote(q)}`);
    return ended(env, workload, 'lambda:DeleteFunction');
  }
  return started(env, workload, {
    roleArn: validRoleArn(d.requestParameters?.role ?? d.responseElements?.role),
  });
}

/** `functionName` may be a name, `account:function:name` or a full ARN, each with `:qualifier`. */
function lambdaFunction(
  ref: string,
  account: string | undefined,
  region: string,
  partition: string | undefined,
): { workload: Workload; qualifier?: string } {
  let full = ref;
  if (!ref.startsWith('arn:')) {
    const partial = /^(\d{12}):function:(.+)$/.exec(ref);
    const acct = partial?.[1] ?? account;
    if (!acct) throw new Reject(`lambda function ${quote(ref)} needs an account and the event has none`);
    full = `arn:${partition ?? partitionForRegion(region)}:lambda:${region}:${acct}:function:${partial?.[2] ?? ref}`;
  }
  const workload = expectKind(normalizeWorkloadId(full), 'lambda', ref);
  const qualifier = full.split(':')[7];
  return qualifier ? { workload, qualifier } : { workload };
}

export const lambdaFunctionApiCall: TriggerModule = {
  name: 'lambda-function-cloudtrail',
  source: SOURCE,
  detailType: CLOUDTRAIL_API_CALL,
  bus: 'default',
  end: {
    id: 'LambdaFunctionDeleted',
    pattern: () => ({
      source: [SOURCE],
      detailType: [CLOUDTRAIL_API_CALL],
      detail: { eventSource: [EVENT_SOURCE], eventName: ['DeleteFunction', 'DeleteFunction20150331'] },
    }),
  },
  start: {
    id: 'LambdaFunctionConfigured',
    pattern: () => ({
      source: [SOURCE],
      detailType: [CLOUDTRAIL_API_CALL],
      detail: {
        eventSource: [EVENT_SOURCE],
        eventName: [
          'CreateFunction',
          'CreateFunction20150331',
          'UpdateFunctionConfiguration',
          'UpdateFunctionConfiguration20150331v2',
        ],
      },
    }),
  },
  detailSchema: LambdaCloudTrailDetailSchema,
  classify,
};
