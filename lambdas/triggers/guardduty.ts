/**
 * GuardDuty's instance credential exfiltration findings: an instance's role credentials were used
 * from elsewhere, so the sessions issued before the finding are revoked as compromised.
 */
import { z } from 'zod';
import type { Workload } from '../shared/domain/workload-id.ts';
import { DetailString } from './envelope.ts';
import {
  type Classification,
  detail,
  type Env,
  ec2Workload,
  ended,
  ignored,
  quote,
  Reject,
} from './shared.ts';
import type { TriggerModule } from './trigger.ts';

const SOURCE = 'aws.guardduty';
const DETAIL_TYPE = 'GuardDuty Finding';

/** GuardDuty finding types that mean an instance's role credentials were used elsewhere. */
export const CREDENTIAL_EXFILTRATION_FINDINGS = [
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
] as const;

export const GuardDutyFindingDetailSchema = z.looseObject({
  type: DetailString,
  id: DetailString.optional(),
  accountId: DetailString.optional(),
  region: DetailString.optional(),
  severity: z.number().optional(),
  resource: z
    .looseObject({
      resourceType: DetailString.optional(),
      instanceDetails: z.looseObject({ instanceId: DetailString.optional() }).nullish(),
      accessKeyDetails: z
        .looseObject({
          accessKeyId: DetailString.optional(),
          principalId: DetailString.optional(),
          userName: DetailString.optional(),
          userType: DetailString.optional(),
        })
        .nullish(),
    })
    .optional(),
});

function classify(env: Env): Classification {
  const d = detail(env, GuardDutyFindingDetailSchema);
  if (!(CREDENTIAL_EXFILTRATION_FINDINGS as readonly string[]).includes(d.type)) {
    return ignored(env, `guardduty finding ${quote(d.type)} is not an instance credential exfiltration`);
  }
  // The stolen credentials' principal is `AROA...:i-...` when instanceDetails is absent.
  const principal = /^AROA[A-Z0-9]+:(i-[0-9a-f]{8,17})$/.exec(
    d.resource?.accessKeyDetails?.principalId ?? '',
  );
  const instanceId = d.resource?.instanceDetails?.instanceId ?? principal?.[1];
  if (!instanceId) throw new Reject(`guardduty finding${d.id ? ` ${d.id}` : ''} names no instance`);
  const account = d.accountId ?? env.envelope.account ?? env.ctx.account;
  const region = d.region ?? env.envelope.region;
  const instance = ec2Workload({ ...env, envelope: { ...env.envelope, account, region } }, instanceId);
  // The instance is usually still running: EC2 keeps refreshing its credentials under the same
  // session name (the instance ID), so the name IS reused after the finding. Marked reusable, the
  // bound is never coarsened (render.ts rule 3): only sessions issued before the finding are denied.
  // The bound is the event time rounded UP to the whole second, because aws:TokenIssueTime has
  // second precision: rounding down would leave a stolen session issued earlier in that same second
  // alive. The price is that a refresh issued in the very second of the finding is denied too (until
  // the instance's next refresh); for a compromise, denying one refresh is the right side to err on.
  const workload: Workload = { ...instance, reusableSessionName: true };
  const finding = d.type.slice(d.type.indexOf('/') + 1);
  return ended(env, workload, `guardduty:${finding}`, { compromised: true });
}

export const guardDutyFinding: TriggerModule = {
  name: 'guardduty-credential-exfiltration',
  source: SOURCE,
  detailType: DETAIL_TYPE,
  bus: 'default',
  end: {
    id: 'GuardDutyCredentialExfiltration',
    pattern: () => ({
      source: [SOURCE],
      detailType: [DETAIL_TYPE],
      detail: { type: [...CREDENTIAL_EXFILTRATION_FINDINGS] },
    }),
  },
  detailSchema: GuardDutyFindingDetailSchema,
  classify,
};
