/**
 * Sundown's own `Workload Ended`: anyone with PutEvents on Sundown's bus (an operator's
 * `sundown end`, a scheduler, a spoke) asks for a workload's end. The detail is strict, so
 * unexpected members (secrets above all) are refused.
 */
import { z } from 'zod';
import { SUNDOWN_EVENT_SOURCE } from '../shared/contract.ts';
import { DetailString } from './envelope.ts';
import { type Classification, detail, type Env, ended, sanitizeReason, sundownWorkload } from './shared.ts';
import type { TriggerModule } from './trigger.ts';

export const WorkloadEndedDetailSchema = z.strictObject({
  workloadId: DetailString,
  reason: z.string().max(4096).optional(),
  compromised: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  /** Limit the revocation to these credentials of the workload (`sundown revoke --credential`). */
  credentialIds: z
    .array(z.string().regex(/^(?:rs|ak|ct)-[0-9a-f]{24}$/, { message: 'must be a Sundown credential ID' }))
    .min(1)
    .max(100)
    .optional(),
});
export type WorkloadEndedDetail = z.infer<typeof WorkloadEndedDetailSchema>;

function classify(env: Env): Classification {
  const d = detail(env, WorkloadEndedDetailSchema);
  const workload = sundownWorkload(env, d.workloadId);
  const reason = sanitizeReason(d.reason) || 'sundown:workload-ended';
  return ended(env, workload, reason, {
    compromised: d.compromised ?? false,
    dryRun: d.dryRun ?? false,
    ...(d.credentialIds ? { credentialIds: d.credentialIds } : {}),
  });
}

export const sundownWorkloadEnded: TriggerModule = {
  name: 'sundown-workload-ended',
  source: SUNDOWN_EVENT_SOURCE,
  detailType: 'Workload Ended',
  bus: 'sundown',
  detailSchema: WorkloadEndedDetailSchema,
  classify,
};
