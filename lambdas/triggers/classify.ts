/**
 * An event's meaning for Sundown: the envelope is checked, the trigger named by its source and
 * detail-type (index.ts) normalizes the detail, and the accounts it would act in are checked.
 * Anything that is not a valid event of a known trigger is ignored (noise) or rejected (audited).
 */
import { SUNDOWN_EVENT_SOURCE } from '../shared/contract.ts';
import { InvalidWorkloadIdError } from '../shared/domain/workload-id.ts';
import { EventEnvelopeSchema } from './envelope.ts';
import { triggerFor } from './index.ts';
import {
  type Classification,
  type ClassifyContext,
  checkAccounts,
  describe,
  type Env,
  ignored,
  quote,
  Reject,
  triggerOf,
} from './shared.ts';

export type { Trigger } from './envelope.ts';
export type { Classification, ClassifyContext, RoleHint } from './shared.ts';

export function classifyEvent(event: unknown, ctx: ClassifyContext = {}): Classification {
  const trigger = triggerOf(event, ctx);
  try {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      return { kind: 'rejected', reason: 'event is not a JSON object', trigger };
    }
    const parsed = EventEnvelopeSchema.safeParse(event);
    if (!parsed.success) throw new Reject(`invalid event envelope: ${describe(parsed.error)}`);
    const envelope = parsed.data;
    const env: Env = { envelope, ctx, trigger, time: new Date(envelope.time).toISOString() };
    return checkAccounts(env, dispatch(env));
  } catch (error) {
    if (error instanceof Reject || error instanceof InvalidWorkloadIdError) {
      return { kind: 'rejected', reason: error.message, trigger };
    }
    return {
      kind: 'rejected',
      reason: `event could not be classified: ${String(error)}`.slice(0, 512),
      trigger,
    };
  }
}

function dispatch(env: Env): Classification {
  const { source } = env.envelope;
  const detailType = env.envelope['detail-type'];
  const trigger = triggerFor(source, detailType);
  if (trigger) return trigger.classify(env);
  // Our own namespace with an unknown type is a mistake worth auditing; anything else is noise.
  if (source === SUNDOWN_EVENT_SOURCE) {
    throw new Reject(
      `unknown sundown detail-type ${quote(detailType)}; expected Workload Ended or Credential Issued`,
    );
  }
  return ignored(env, `unsupported event ${quote(source)} / ${quote(detailType)}`);
}
