/**
 * `sundown status` checks that a CloudTrail trail delivers this region's management events, which
 * the Lambda triggers match: what counts as such a trail, and that a failing CloudTrail call makes
 * the answer `unknown` instead of failing the command. CloudTrail is a fake client here (moto
 * creates no trail from the stack's template: it skips AWS::CloudTrail::Trail).
 */
import {
  type CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  type GetEventSelectorsCommandOutput,
  GetTrailStatusCommand,
  type Trail,
} from '@aws-sdk/client-cloudtrail';
import { describe, expect, it } from 'vitest';
import { cloudTrailLine } from '../../cli/commands/status.ts';
import { cloudTrailCheck } from '../../cli/status-report.ts';
import { readTrails, selectsWriteManagementEvents } from '../../cli/trail-status.ts';

const REGION = 'us-east-1';

interface FakeTrail {
  trail: Trail;
  logging?: boolean | Error;
  selectors?: Partial<GetEventSelectorsCommandOutput> | Error;
}

function fakeCloudTrail(trails: FakeTrail[] | Error): CloudTrailClient {
  const find = (name: string | undefined) => {
    const found = (trails as FakeTrail[]).find((t) => t.trail.TrailARN === name);
    if (!found) throw new Error(`TrailNotFoundException: ${name}`);
    return found;
  };
  const send = async (command: unknown) => {
    if (command instanceof DescribeTrailsCommand) {
      if (trails instanceof Error) throw trails;
      return { trailList: trails.map((t) => t.trail) };
    }
    if (command instanceof GetTrailStatusCommand) {
      const { logging = true } = find(command.input.Name);
      if (logging instanceof Error) throw logging;
      return { IsLogging: logging };
    }
    if (command instanceof GetEventSelectorsCommand) {
      const { selectors = { EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'All' }] } } =
        find(command.input.TrailName);
      if (selectors instanceof Error) throw selectors;
      return selectors;
    }
    throw new Error(`unexpected command ${(command as object).constructor.name}`);
  };
  return { send } as unknown as CloudTrailClient;
}

const trail = (name: string, extra: Partial<Trail> = {}): Trail => ({
  Name: name,
  TrailARN: `arn:aws:cloudtrail:${extra.HomeRegion ?? REGION}:123456789012:trail/${name}`,
  HomeRegion: REGION,
  IsMultiRegionTrail: false,
  ...extra,
});

async function check(trails: FakeTrail[] | Error) {
  return cloudTrailCheck(await readTrails(fakeCloudTrail(trails), REGION), REGION);
}

describe('selectsWriteManagementEvents', () => {
  it('accepts basic selectors with management events All or WriteOnly, not ReadOnly or excluded', () => {
    const basic = (IncludeManagementEvents: boolean, ReadWriteType: string) =>
      selectsWriteManagementEvents({ EventSelectors: [{ IncludeManagementEvents, ReadWriteType }] });
    expect(basic(true, 'All')).toBe(true);
    expect(basic(true, 'WriteOnly')).toBe(true);
    expect(basic(true, 'ReadOnly')).toBe(false);
    expect(basic(false, 'All')).toBe(false);
    expect(selectsWriteManagementEvents({ EventSelectors: [] })).toBe(true); // a new trail's default
  });

  it('accepts advanced selectors on eventCategory Management unless they keep read-only events only', () => {
    const advanced = (...extra: { Field: string; Equals?: string[]; NotEquals?: string[] }[]) =>
      selectsWriteManagementEvents({
        AdvancedEventSelectors: [
          { FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }, ...extra] },
        ],
      });
    expect(advanced()).toBe(true);
    expect(advanced({ Field: 'readOnly', Equals: ['false'] })).toBe(true);
    expect(advanced({ Field: 'readOnly', Equals: ['true'] })).toBe(false);
    expect(
      selectsWriteManagementEvents({
        AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }] }],
      }),
    ).toBe(false);
  });
});

describe('cloudTrailCheck over readTrails', () => {
  it('is logging when a trail of the region, or a multi-region trail from elsewhere, logs write management events', async () => {
    expect(await check([{ trail: trail('sundown') }])).toEqual({
      state: 'logging',
      region: REGION,
      trails: ['sundown'],
    });
    const org = trail('org', {
      HomeRegion: 'eu-west-1',
      IsMultiRegionTrail: true,
      IsOrganizationTrail: true,
    });
    expect(await check([{ trail: org }])).toMatchObject({ state: 'logging', trails: ['org'] });
  });

  it('is missing without a trail, with a stopped one, with one of another region or without management events', async () => {
    expect(await check([])).toEqual({
      state: 'missing',
      region: REGION,
      detail: 'no trail applies to us-east-1',
    });
    expect(await check([{ trail: trail('stopped'), logging: false }])).toMatchObject({
      state: 'missing',
      detail: 'stopped is not logging',
    });
    expect(await check([{ trail: trail('elsewhere', { HomeRegion: 'eu-west-1' }) }])).toMatchObject({
      state: 'missing',
      detail: 'no trail applies to us-east-1',
    });
    expect(
      await check([
        { trail: trail('data-only'), selectors: { EventSelectors: [{ IncludeManagementEvents: false }] } },
      ]),
    ).toMatchObject({ state: 'missing', detail: 'data-only logs no write management events' });
  });

  it('is unknown, not an error, when CloudTrail cannot be asked', async () => {
    const denied = new Error('User is not authorized to perform: cloudtrail:DescribeTrails');
    expect(await check(denied)).toEqual({
      state: 'unknown',
      region: REGION,
      detail: `cloudtrail:DescribeTrails failed: ${denied.message}`,
    });
    const unreadable = await check([{ trail: trail('org'), logging: new Error('TrailNotFoundException') }]);
    expect(unreadable).toMatchObject({ state: 'unknown' });
    expect(unreadable.state !== 'logging' && unreadable.detail).toMatch(
      /org: GetTrailStatus: TrailNotFoundException/,
    );
  });

  it('prefers a confirmed trail over one it could not read', async () => {
    const result = await check([
      { trail: trail('unreadable'), selectors: new Error('AccessDenied') },
      { trail: trail('good') },
    ]);
    expect(result).toMatchObject({ state: 'logging', trails: ['good'] });
  });
});

describe('cloudTrailLine', () => {
  it('warns when no trail logs, says unknown when it cannot tell, and names the trails otherwise', () => {
    expect(
      cloudTrailLine({ state: 'missing', region: REGION, detail: 'no trail applies to us-east-1' }),
    ).toMatch(
      /^WARNING: no CloudTrail trail logs write management events in us-east-1 .*Lambda function deletions/,
    );
    expect(cloudTrailLine({ state: 'unknown', region: REGION, detail: 'x' })).toMatch(
      /^CloudTrail: unknown \(x\)/,
    );
    expect(cloudTrailLine({ state: 'logging', region: REGION, trails: ['a', 'b'] })).toBe(
      'CloudTrail: management events of us-east-1 are logged (a, b)',
    );
  });
});
