/**
 * Which CloudTrail trails could deliver this region's management events to EventBridge, read for
 * `sundown status`: every trail that applies to the region (its home region, or multi-region),
 * whether it is logging, and whether its event selectors include write management events. A call
 * that fails leaves that fact unknown; it never throws.
 */
import {
  type CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
  type Trail,
} from '@aws-sdk/client-cloudtrail';

export interface TrailFacts {
  name: string;
  arn: string;
  homeRegion: string;
  multiRegion: boolean;
  organization: boolean;
  /** GetTrailStatus.IsLogging; null when it could not be read. */
  logging: boolean | null;
  /** The selectors include write management events; null when they could not be read. */
  writeManagementEvents: boolean | null;
  /** Why a fact is null. */
  error?: string;
}

export type TrailsRead = { ok: true; trails: TrailFacts[] } | { ok: false; error: string };

const message = (err: unknown) => (err as Error)?.message ?? String(err);

interface Selectors {
  EventSelectors?: { IncludeManagementEvents?: boolean; ReadWriteType?: string }[];
  AdvancedEventSelectors?: {
    FieldSelectors?: { Field?: string; Equals?: string[]; NotEquals?: string[] }[];
  }[];
}

/**
 * Whether basic or advanced event selectors log write management events. A trail without any
 * selector logs all management events (CloudTrail's default for a new trail).
 */
export function selectsWriteManagementEvents(selectors: Selectors): boolean {
  if (!selectors.EventSelectors?.length && !selectors.AdvancedEventSelectors?.length) return true;
  const basic = (selectors.EventSelectors ?? []).some(
    (s) => s.IncludeManagementEvents !== false && s.ReadWriteType !== 'ReadOnly',
  );
  const advanced = (selectors.AdvancedEventSelectors ?? []).some((s) => {
    const fields = s.FieldSelectors ?? [];
    const field = (name: string) => fields.find((f) => f.Field === name);
    const management = field('eventCategory')?.Equals?.includes('Management') ?? false;
    const readOnly = field('readOnly');
    const excludesWrites =
      readOnly?.Equals?.includes('true') === true || readOnly?.NotEquals?.includes('false') === true;
    return management && !excludesWrites;
  });
  return basic || advanced;
}

export async function readTrails(cloudTrail: CloudTrailClient, region: string): Promise<TrailsRead> {
  let trailList: Trail[];
  try {
    trailList =
      (await cloudTrail.send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList ?? [];
  } catch (err) {
    return { ok: false, error: `cloudtrail:DescribeTrails failed: ${message(err)}` };
  }
  const applicable = trailList.filter((t) => t.IsMultiRegionTrail || t.HomeRegion === region);
  const trails: TrailFacts[] = [];
  for (const t of applicable) {
    const arn = t.TrailARN ?? t.Name ?? '';
    const facts: TrailFacts = {
      name: t.Name ?? arn,
      arn,
      homeRegion: t.HomeRegion ?? '',
      multiRegion: t.IsMultiRegionTrail === true,
      organization: t.IsOrganizationTrail === true,
      logging: null,
      writeManagementEvents: null,
    };
    const errors: string[] = [];
    try {
      facts.logging = (await cloudTrail.send(new GetTrailStatusCommand({ Name: arn }))).IsLogging === true;
    } catch (err) {
      errors.push(`GetTrailStatus: ${message(err)}`);
    }
    try {
      const selectors = await cloudTrail.send(new GetEventSelectorsCommand({ TrailName: arn }));
      facts.writeManagementEvents = selectsWriteManagementEvents(selectors);
    } catch (err) {
      errors.push(`GetEventSelectors: ${message(err)}`);
    }
    if (errors.length > 0) facts.error = errors.join('; ');
    trails.push(facts);
  }
  return { ok: true, trails };
}
