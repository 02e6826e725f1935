import { z } from 'zod';
import { accountId, externalId, InvalidConfigError, organizationId } from '../config.ts';

/** `part` of a spoke: everything, or the account-wide roles / the per-region forwarding rules alone. */
export const SPOKE_PARTS = ['all', 'roles', 'forwarding'] as const;
export type SpokePart = (typeof SPOKE_PARTS)[number];

const region = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'must be an AWS region like eu-west-1' });

/** A SundownSpoke's settings (the construct's props and the `sundownSpoke` context, without the app's keys). */
export const SpokeSettingsSchema = z.strictObject({
  /** The hub's account ID. */
  hubAccount: accountId,
  /** The hub's region (where its hub bus is). */
  hubRegion: region,
  /** The hub bus's name: `<hub stack name>-hub`. */
  hubEventBusName: z
    .string()
    .regex(/^[\w.-]{1,256}$/, { message: 'must be an event bus name' })
    .default('Sundown-hub'),
  /** The organization the hub is in: the spoke roles then trust only hub principals in it. */
  organizationId: organizationId.optional(),
  /** The sts:ExternalId the hub passes (its `hub.externalId`). */
  externalId: externalId.optional(),
  /** Forward EC2 `stopped` too (set it like the hub's stoppedEndsWorkload). */
  stoppedEndsWorkload: z.boolean().default(false),
  /** IAM roles are global: deploy `roles` in one region per account, `forwarding` in every region. */
  part: z.enum(SPOKE_PARTS).default('all'),
});
export type SpokeSettings = z.infer<typeof SpokeSettingsSchema>;

const StackSetSchema = z.strictObject({
  /** Organizational units (or the root, `r-...`) whose accounts get the spoke, now and when they join. */
  organizationalUnitIds: z
    .array(
      z.string().regex(/^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/, {
        message: 'must be an OU ID (ou-...) or a root ID (r-...)',
      }),
    )
    .min(1),
  /** Regions the forwarding rules go to (include us-east-1: IAM and global STS events are there). */
  regions: z.array(region).min(1),
  /** The one region per account the spoke roles are created in. @default the first of `regions` */
  rolesRegion: region.optional(),
  /** `DELEGATED_ADMIN` when deployed from a delegated administrator account, `SELF` from the management account. */
  callAs: z.enum(['SELF', 'DELEGATED_ADMIN']).default('SELF'),
  /** Prefix of the StackSets' names (`<name>-roles`, `<name>-forwarding`). */
  stackSetName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,100}$/)
    .default('SundownSpoke'),
});
export type StackSetSettings = z.infer<typeof StackSetSchema>;

/** The `sundownSpoke` context key: a spoke's settings, its stack name, and optionally StackSets of it. */
export const SpokeConfigSchema = SpokeSettingsSchema.extend({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
    .default('SundownSpoke'),
  /** Emit the spoke as service-managed StackSets (in the hub app) instead of one stack. */
  stackSet: StackSetSchema.optional(),
});
export type SpokeConfig = z.infer<typeof SpokeConfigSchema>;

export function parseSpokeConfig(raw: unknown): SpokeConfig {
  const value = typeof raw === 'string' ? json(raw) : (raw ?? {});
  return parse(SpokeConfigSchema, value, 'invalid spoke configuration (context key "sundownSpoke")');
}

export function parseSpokeSettings(props: unknown): SpokeSettings {
  return parse(SpokeSettingsSchema, props ?? {}, 'invalid SundownSpoke props');
}

export function parseStackSetSettings(props: unknown): StackSetSettings {
  return parse(StackSetSchema, props ?? {}, 'invalid SundownSpokeStackSet props');
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidConfigError(`${what}: ${issues}`);
  }
  return result.data;
}

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidConfigError('invalid spoke configuration: context key "sundownSpoke" is not valid JSON');
  }
}
