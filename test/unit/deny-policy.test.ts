import { describe, expect, it } from 'vitest';
import {
  assertValidSessionName,
  type DenyEntry,
  FRESH_ROLE_OPTIONS,
  InvalidDenyEntryError,
  type PolicyDocument,
  policySize,
  policyTextSize,
  pruneEntries,
  type RenderedPolicies,
  type RenderOptions,
  renderDenyPolicies,
  SESSION_NAME_PATTERN,
  UNBOUNDED_COARSENING,
} from '../../lambdas/revocation/deny-policy.ts';

const END = '2024-05-01T12:00:00Z';
const EXPIRY = '2024-05-01T18:00:00Z';
const INLINE_ONLY: RenderOptions = { ...FRESH_ROLE_OPTIONS, maxManagedPolicies: 0 };

/** An EC2 instance ID: `i-` plus 17 hex characters, as the product sees them. */
function instanceId(index: number): string {
  return `i-${index.toString(16).padStart(17, '0')}`;
}

function entry(sessionName: string, overrides: Partial<DenyEntry> = {}): DenyEntry {
  return { sessionName, notAfter: END, expiresAt: EXPIRY, reusableName: false, ...overrides };
}

function ec2Entries(count: number, notAfter: (index: number) => string = () => END): DenyEntry[] {
  return Array.from({ length: count }, (_, index) => entry(instanceId(index), { notAfter: notAfter(index) }));
}

/** notAfter values spread evenly over one hour, each distinct. */
function spreadOverAnHour(count: number): (index: number) => string {
  return (index) => new Date(Date.parse(END) + Math.floor((index * 3_600_000) / count)).toISOString();
}

function documentsOf(rendered: RenderedPolicies): PolicyDocument[] {
  return [...(rendered.inline ? [rendered.inline] : []), ...rendered.managed];
}

/** Every (value, bound) pair in the rendered documents. */
function denials(rendered: RenderedPolicies): Array<{ value: string; bound: string }> {
  return documentsOf(rendered).flatMap((doc) =>
    doc.Statement.flatMap((statement) =>
      statement.Condition.StringLike['aws:userid'].map((value) => ({
        value,
        bound: statement.Condition.DateLessThan?.['aws:TokenIssueTime'] ?? 'none',
      })),
    ),
  );
}

function boundsFor(rendered: RenderedPolicies, sessionName: string): string[] {
  return denials(rendered)
    .filter((denial) => denial.value === `*:${sessionName}`)
    .map((denial) => denial.bound);
}

describe('renderDenyPolicies statement shape', () => {
  it('renders one Deny statement scoped to *:<sessionName> and the end time', () => {
    // Prepare
    const entries = [entry('i-0aaaaaaaaaaaaaaaa')];

    // Act
    const rendered = renderDenyPolicies(entries, FRESH_ROLE_OPTIONS);

    // Assess
    expect(rendered.inline).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            StringLike: { 'aws:userid': ['*:i-0aaaaaaaaaaaaaaaa'] },
            DateLessThan: { 'aws:TokenIssueTime': '2024-05-01T12:00:00Z' },
          },
        },
      ],
    });
    expect(rendered.managed).toEqual([]);
    expect(rendered.unplaced).toEqual([]);
    expect(rendered.coarsenedSeconds).toBe(0);
  });

  it('returns no documents when there are no entries', () => {
    // Act
    const rendered = renderDenyPolicies([], FRESH_ROLE_OPTIONS);

    // Assess
    expect(rendered).toEqual({
      inline: null,
      managed: [],
      unplaced: [],
      charsUsed: 0,
      charsCapacity: 10_240 + 6_144 * 10,
      coarsenedSeconds: 0,
    });
  });

  it('rounds a bound with milliseconds up to the next whole second', () => {
    // Prepare
    const entries = [entry('i-0aaaaaaaaaaaaaaaa', { notAfter: '2024-05-01T12:00:00.001Z' })];

    // Act
    const rendered = renderDenyPolicies(entries, FRESH_ROLE_OPTIONS);

    // Assess
    expect(boundsFor(rendered, 'i-0aaaaaaaaaaaaaaaa')).toEqual(['2024-05-01T12:00:01Z']);
  });

  it('rounds a sub-millisecond fraction up and keeps a zero fraction exact', () => {
    // Prepare
    const entries = [
      entry('fn-a', { notAfter: '2024-05-01T12:00:00.000000001Z', reusableName: true }),
      entry('fn-b', { notAfter: '2024-05-01T12:00:05.000Z', reusableName: true }),
      entry('fn-c', { notAfter: '2024-12-31T23:59:59.5Z', reusableName: true }),
    ];

    // Act
    const rendered = renderDenyPolicies(entries, FRESH_ROLE_OPTIONS);

    // Assess
    expect(boundsFor(rendered, 'fn-a')).toEqual(['2024-05-01T12:00:01Z']);
    expect(boundsFor(rendered, 'fn-b')).toEqual(['2024-05-01T12:00:05Z']);
    expect(boundsFor(rendered, 'fn-c')).toEqual(['2025-01-01T00:00:00Z']);
  });
});

describe('renderDenyPolicies grouping and determinism', () => {
  it('puts entries sharing a bound into one statement with sorted values', () => {
    // Prepare
    const entries = [entry('i-0ccc'), entry('i-0aaa'), entry('i-0bbb')];

    // Act
    const rendered = renderDenyPolicies(entries, FRESH_ROLE_OPTIONS);

    // Assess
    expect(rendered.inline?.Statement).toHaveLength(1);
    expect(rendered.inline?.Statement[0]?.Condition.StringLike['aws:userid']).toEqual([
      '*:i-0aaa',
      '*:i-0bbb',
      '*:i-0ccc',
    ]);
  });

  it('sorts statements by bound', () => {
    // Prepare
    const entries = [
      entry('i-late', { notAfter: '2024-05-01T13:00:00Z' }),
      entry('i-early', { notAfter: '2024-05-01T11:00:00Z' }),
      entry('i-mid', { notAfter: '2024-05-01T12:00:00Z' }),
    ];

    // Act
    const rendered = renderDenyPolicies(entries, FRESH_ROLE_OPTIONS);

    // Assess
    expect(rendered.inline?.Statement.map((s) => s.Condition.DateLessThan?.['aws:TokenIssueTime'])).toEqual([
      '2024-05-01T11:00:00Z',
      '2024-05-01T12:00:00Z',
      '2024-05-01T13:00:00Z',
    ]);
  });

  it('ignores input order and duplicates', () => {
    // Prepare
    const entries = [entry('i-0aaa'), entry('i-0bbb', { notAfter: '2024-05-01T12:30:00Z' }), entry('i-0ccc')];
    const shuffledWithDuplicates = [
      entries[2],
      entries[0],
      entries[1],
      entries[0],
      entries[2],
    ] as DenyEntry[];

    // Act
    const rendered = renderDenyPolicies(entries, FRESH_ROLE_OPTIONS);
    const again = renderDenyPolicies(shuffledWithDuplicates, FRESH_ROLE_OPTIONS);

    // Assess
    expect(again).toEqual(rendered);
  });

  it('keeps only the later bound when a session name appears with two end times', () => {
    // Prepare: "issued before 12:00 or before 13:00" is exactly "issued before 13:00".
    const entries = [
      entry('fn-orders', { notAfter: '2024-05-01T12:00:00Z', reusableName: true }),
      entry('fn-orders', { notAfter: '2024-05-01T13:00:00Z', reusableName: true }),
      entry('i-0aaa', { notAfter: '2024-05-01T13:00:00Z' }),
      entry('i-0aaa', { notAfter: '2024-05-01T12:00:00Z' }),
    ];

    // Act
    const rendered = renderDenyPolicies(entries, FRESH_ROLE_OPTIONS);

    // Assess
    expect(boundsFor(rendered, 'fn-orders')).toEqual(['2024-05-01T13:00:00Z']);
    expect(boundsFor(rendered, 'i-0aaa')).toEqual(['2024-05-01T13:00:00Z']);
  });

  it('drops extra attributes from reported entries', () => {
    // Prepare
    const withExtra = { ...entry('i-0aaa'), roleArn: 'arn:aws:iam::123456789012:role/x' } as DenyEntry;

    // Act
    const rendered = renderDenyPolicies([withExtra], {
      inlineBudget: 0,
      managedBudget: 0,
      maxManagedPolicies: 0,
    });

    // Assess
    expect(rendered.unplaced).toEqual([entry('i-0aaa')]);
  });
});

describe('renderDenyPolicies capacity', () => {
  it('fits at least 400 EC2 sessions with one shared end time in the inline policy alone', () => {
    // Prepare
    const entries = ec2Entries(400);

    // Act
    const rendered = renderDenyPolicies(entries, INLINE_ONLY);

    // Assess
    expect(rendered.unplaced).toEqual([]);
    expect(rendered.managed).toEqual([]);
    expect(rendered.inline?.Statement).toHaveLength(1);
    expect(policySize(rendered.inline as PolicyDocument)).toBeLessThanOrEqual(10_240);
    expect(rendered.coarsenedSeconds).toBe(0);
  });

  it('fits at least 2,000 EC2 sessions with one shared end time using managed overflow', () => {
    // Prepare
    const entries = ec2Entries(2_000);

    // Act
    const rendered = renderDenyPolicies(entries, FRESH_ROLE_OPTIONS);

    // Assess
    expect(rendered.unplaced).toEqual([]);
    expect(rendered.managed.length).toBeGreaterThan(0);
    expect(rendered.managed.length).toBeLessThanOrEqual(10);
    expect(policySize(rendered.inline as PolicyDocument)).toBeLessThanOrEqual(10_240);
    for (const doc of rendered.managed) expect(policySize(doc)).toBeLessThanOrEqual(6_144);
    expect(denials(rendered)).toHaveLength(2_000);
    expect(rendered.coarsenedSeconds).toBe(0);
  });

  it('fills the inline policy before any managed policy', () => {
    // Prepare
    const entries = ec2Entries(500);

    // Act
    const rendered = renderDenyPolicies(entries, FRESH_ROLE_OPTIONS);

    // Assess: the inline policy is so full that one more value would not fit.
    const inlineSize = policySize(rendered.inline as PolicyDocument);
    expect(inlineSize + '"*:i-00000000000000000",'.length).toBeGreaterThan(10_240);
    expect(rendered.managed).toHaveLength(1);
  });

  it('skips the inline policy when its budget cannot hold a single statement', () => {
    // Prepare
    const entries = ec2Entries(3);

    // Act
    const rendered = renderDenyPolicies(entries, {
      inlineBudget: 100,
      managedBudget: 6_144,
      maxManagedPolicies: 1,
    });

    // Assess
    expect(rendered.inline).toBeNull();
    expect(rendered.managed).toHaveLength(1);
    expect(rendered.unplaced).toEqual([]);
  });

  it('reports characters used and capacity', () => {
    // Prepare
    const entries = ec2Entries(600);
    const opts: RenderOptions = { inlineBudget: 4_000, managedBudget: 6_144, maxManagedPolicies: 3 };

    // Act
    const rendered = renderDenyPolicies(entries, opts);

    // Assess
    const sizes = documentsOf(rendered).map(policySize);
    expect(rendered.charsUsed).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(rendered.charsCapacity).toBe(4_000 + 3 * 6_144);
  });

  it('reports the newest entries as unplaced when capacity is exhausted', () => {
    // Prepare: each entry has its own end time, one hour apart; names are reusable so nothing coarsens.
    const entries = Array.from({ length: 100 }, (_, index) =>
      entry(`fn-${String(index).padStart(3, '0')}`, {
        notAfter: new Date(Date.parse(END) + index * 3_600_000).toISOString(),
        reusableName: true,
      }),
    );
    const opts: RenderOptions = { inlineBudget: 2_000, managedBudget: 0, maxManagedPolicies: 0 };

    // Act
    const rendered = renderDenyPolicies(entries, opts);

    // Assess
    const placedCount = denials(rendered).length;
    expect(rendered.unplaced.length).toBeGreaterThan(0);
    expect(placedCount + rendered.unplaced.length).toBe(100);
    expect(rendered.unplaced).toEqual(entries.slice(placedCount));
    expect(rendered.coarsenedSeconds).toBe(0);
  });

  it('keeps placed entries in place when a newer entry arrives at full capacity', () => {
    // Prepare
    const entries = ec2Entries(430);
    const newer = entry('i-ffffffffffffffff0', { notAfter: '2024-05-01T12:30:00Z' });

    // Act
    const before = renderDenyPolicies(entries, INLINE_ONLY);
    const after = renderDenyPolicies([...entries, newer], INLINE_ONLY);

    // Assess
    expect(before.coarsenedSeconds).toBe(UNBOUNDED_COARSENING);
    expect(before.unplaced.length).toBeGreaterThan(0);
    expect(after.inline).toEqual(before.inline);
    expect(after.unplaced).toEqual([...before.unplaced, newer]);
  });

  it('keeps never-reused names placed when a newer reusable entry arrives at the unbounded level', () => {
    // Prepare: the instances fill the inline policy only without their bound.
    const entries = ec2Entries(430);
    const newer = entry('orders-fn', { notAfter: '2024-05-01T12:30:00Z', reusableName: true });

    // Act
    const before = renderDenyPolicies(entries, INLINE_ONLY);
    const after = renderDenyPolicies([...entries, newer], INLINE_ONLY);

    // Assess: the function's exact bound is later than every instance's, so it waits its turn.
    expect(after.coarsenedSeconds).toBe(UNBOUNDED_COARSENING);
    expect(after.inline).toEqual(before.inline);
    expect(after.unplaced).toEqual([...before.unplaced, newer]);
  });
});

describe('renderDenyPolicies without a time bound', () => {
  /** IAM's inline limit less 5%, as the revoker budgets it. */
  const WITH_HEADROOM: RenderOptions = { inlineBudget: 9_728, managedBudget: 5_836, maxManagedPolicies: 0 };

  it('fits 400 EC2 sessions that ended in the same second inline with 5% headroom, by dropping the bound', () => {
    // Prepare: 24 characters per session; the document and a statement with the bound take 190, so
    // 400 sessions need 9,789; without the bound 129, so exactly 9,728.
    const entries = ec2Entries(400);

    // Act
    const rendered = renderDenyPolicies(entries, WITH_HEADROOM);

    // Assess
    expect(rendered.unplaced).toEqual([]);
    expect(rendered.coarsenedSeconds).toBe(UNBOUNDED_COARSENING);
    expect(rendered.inline?.Statement).toEqual([
      {
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { StringLike: { 'aws:userid': entries.map((e) => `*:${e.sessionName}`) } },
      },
    ]);
    expect(policySize(rendered.inline as PolicyDocument)).toBe(9_728);
    expect(renderDenyPolicies(ec2Entries(401), WITH_HEADROOM).unplaced).toHaveLength(1);
  });

  it('keeps the bound while exact bounds fit', () => {
    // Act
    const rendered = renderDenyPolicies(ec2Entries(390), WITH_HEADROOM);

    // Assess
    expect(rendered.coarsenedSeconds).toBe(0);
    expect(rendered.inline?.Statement[0]?.Condition.DateLessThan).toEqual({ 'aws:TokenIssueTime': END });
  });

  it('keeps reusable names bounded beside the unbounded statement, which comes last', () => {
    // Prepare: a function that ended an hour before 393 instances; together they fit only unbounded.
    const earlier = '2024-05-01T11:00:00Z';
    const entries = [...ec2Entries(393), entry('orders-fn', { notAfter: earlier, reusableName: true })];

    // Act
    const rendered = renderDenyPolicies(entries, WITH_HEADROOM);

    // Assess
    expect(rendered.unplaced).toEqual([]);
    expect(rendered.coarsenedSeconds).toBe(UNBOUNDED_COARSENING);
    expect(boundsFor(rendered, 'orders-fn')).toEqual([earlier]);
    expect(rendered.inline?.Statement.map((s) => s.Condition.DateLessThan)).toEqual([
      { 'aws:TokenIssueTime': earlier },
      undefined,
    ]);
  });
});

describe('renderDenyPolicies coarsening', () => {
  it('coarsens 400 distinct end times over an hour so they fit the inline policy', () => {
    // Prepare
    const entries = ec2Entries(400, spreadOverAnHour(400));

    // Act
    const rendered = renderDenyPolicies(entries, INLINE_ONLY);

    // Assess
    expect(rendered.unplaced).toEqual([]);
    expect(rendered.coarsenedSeconds).toBeGreaterThan(0);
    expect(policySize(rendered.inline as PolicyDocument)).toBeLessThanOrEqual(10_240);
    for (const { sessionName, notAfter } of entries) {
      const [bound] = boundsFor(rendered, sessionName);
      const boundMillis = Date.parse(bound as string);
      expect(boundMillis).toBeGreaterThanOrEqual(Date.parse(notAfter));
      expect(boundMillis % (rendered.coarsenedSeconds * 1000)).toBe(0);
    }
  });

  it('coarsens 400 distinct end times over an hour so they fit a fresh role', () => {
    // Prepare
    const entries = ec2Entries(400, spreadOverAnHour(400));

    // Act
    const rendered = renderDenyPolicies(entries, FRESH_ROLE_OPTIONS);

    // Assess
    expect(rendered.unplaced).toEqual([]);
    expect(rendered.coarsenedSeconds).toBeGreaterThan(0);
  });

  it('picks the finest bucket that fits', () => {
    // Prepare: exact (400 statements), 10 s and 60 s buckets do not fit one inline plus one managed policy.
    const entries = ec2Entries(400, spreadOverAnHour(400));

    // Act
    const rendered = renderDenyPolicies(entries, { ...FRESH_ROLE_OPTIONS, maxManagedPolicies: 1 });

    // Assess
    expect(rendered.unplaced).toEqual([]);
    expect(rendered.coarsenedSeconds).toBe(300);
  });

  it('does not coarsen when exact bounds fit', () => {
    // Prepare
    const entries = ec2Entries(50, spreadOverAnHour(50));

    // Act
    const rendered = renderDenyPolicies(entries, INLINE_ONLY);

    // Assess
    expect(rendered.coarsenedSeconds).toBe(0);
    for (const { sessionName, notAfter } of entries) {
      expect(boundsFor(rendered, sessionName)).toEqual([`${notAfter.slice(0, 19)}Z`]);
    }
  });

  it('never coarsens reusable names, even when other entries are coarsened', () => {
    // Prepare
    const functions = Array.from({ length: 5 }, (_, index) =>
      entry(`orders-fn-${index}`, { notAfter: `2024-05-01T12:1${index}:07.250Z`, reusableName: true }),
    );
    const entries = [...ec2Entries(350, spreadOverAnHour(350)), ...functions];

    // Act
    const rendered = renderDenyPolicies(entries, INLINE_ONLY);

    // Assess
    expect(rendered.coarsenedSeconds).toBeGreaterThan(0);
    expect(rendered.unplaced).toEqual([]);
    for (const [index, fn] of functions.entries()) {
      expect(boundsFor(rendered, fn.sessionName)).toEqual([`2024-05-01T12:1${index}:08Z`]);
    }
  });

  it('does not coarsen a name that is reusable in any of its entries', () => {
    // Prepare: an instance stopped (reusable) then later terminated (not reusable) under the same ID.
    const stoppedThenTerminated = [
      entry('i-0aaaaaaaaaaaaaaaa', { notAfter: '2024-05-01T12:00:07Z', reusableName: true }),
      entry('i-0aaaaaaaaaaaaaaaa', { notAfter: '2024-05-01T12:10:07Z', reusableName: false }),
    ];
    const entries = [...ec2Entries(400, spreadOverAnHour(400)), ...stoppedThenTerminated];

    // Act
    const rendered = renderDenyPolicies(entries, INLINE_ONLY);

    // Assess
    expect(rendered.coarsenedSeconds).toBeGreaterThan(0);
    expect(boundsFor(rendered, 'i-0aaaaaaaaaaaaaaaa')).toEqual(['2024-05-01T12:10:07Z']);
  });

  it('reports no coarsening when only reusable names overflow', () => {
    // Prepare
    const entries = Array.from({ length: 100 }, (_, index) =>
      entry(`fn-${index}`, {
        notAfter: new Date(Date.parse(END) + index * 1_000).toISOString(),
        reusableName: true,
      }),
    );

    // Act
    const rendered = renderDenyPolicies(entries, {
      inlineBudget: 1_000,
      managedBudget: 0,
      maxManagedPolicies: 0,
    });

    // Assess
    expect(rendered.coarsenedSeconds).toBe(0);
    expect(rendered.unplaced.length).toBeGreaterThan(0);
  });
});

describe('renderDenyPolicies input validation', () => {
  const badNames = [
    ['a wildcard *', 'i-0aaa*'],
    ['a wildcard ?', 'i-0aa?'],
    ['a double quote', 'i-0aa"'],
    ['a space', 'my function'],
    ['a colon', 'AROAEXAMPLE:i-0aaa'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal IAM policy variable is the point of this case
    ['a policy variable', '${aws:username}'],
    ['a backslash', 'i-0aa\\'],
    ['a newline', 'i-0aa\n'],
    ['a non-ASCII letter', 'fünction'],
    ['65 characters', 'a'.repeat(65)],
    ['1 character', 'a'],
    ['no characters', ''],
  ] as const;

  it('validates an entry again when a field changed after it was validated (prune, then render)', () => {
    // Arrange: validated once by pruning, as the revoker does before it renders
    const mutable = entry(instanceId(1));
    pruneEntries([mutable], new Date(END));
    // Act: the same object, changed afterwards
    mutable.sessionName = '*';
    // Assess: the change is caught, not served from the first validation
    expect(() => renderDenyPolicies([mutable], FRESH_ROLE_OPTIONS)).toThrow(InvalidDenyEntryError);
    mutable.sessionName = instanceId(1);
    mutable.notAfter = '2024-05-01T12:00:00+02:00';
    expect(() => renderDenyPolicies([mutable], FRESH_ROLE_OPTIONS)).toThrow(InvalidDenyEntryError);
  });

  for (const [label, name] of badNames) {
    it(`fails a session name with ${label}`, () => {
      // Act / Assess
      expect(() => renderDenyPolicies([entry(name)], FRESH_ROLE_OPTIONS)).toThrow(InvalidDenyEntryError);
    });
  }

  it('fails a session name that is not a string', () => {
    // Prepare
    const bad = { ...entry('i-0aaa'), sessionName: 42 } as unknown as DenyEntry;

    // Act / Assess
    expect(() => renderDenyPolicies([bad], FRESH_ROLE_OPTIONS)).toThrow(InvalidDenyEntryError);
  });

  const badInstants = [
    ['a date without time', '2024-05-01'],
    ['an offset instead of Z', '2024-05-01T12:00:00+00:00'],
    ['a lowercase z', '2024-05-01T12:00:00z'],
    ['an impossible day', '2024-02-30T12:00:00Z'],
    ['hour 24', '2024-05-01T24:00:00Z'],
    ['a leap second', '2024-05-01T12:00:60Z'],
    ['free text', 'yesterday'],
    ['an empty string', ''],
    ['a year before 1970', '1969-12-31T23:59:59Z'],
    ['a ten-digit fraction', '2024-05-01T12:00:00.0000000001Z'],
    ['surrounding whitespace', ' 2024-05-01T12:00:00Z'],
  ] as const;

  for (const [label, value] of badInstants) {
    it(`fails notAfter with ${label}`, () => {
      // Act / Assess
      expect(() => renderDenyPolicies([entry('i-0aaa', { notAfter: value })], FRESH_ROLE_OPTIONS)).toThrow(
        InvalidDenyEntryError,
      );
    });

    it(`fails expiresAt with ${label}`, () => {
      // Act / Assess
      expect(() => renderDenyPolicies([entry('i-0aaa', { expiresAt: value })], FRESH_ROLE_OPTIONS)).toThrow(
        InvalidDenyEntryError,
      );
    });
  }

  it('fails an entry whose reusableName is not a boolean', () => {
    // Prepare
    const bad = { ...entry('i-0aaa'), reusableName: 'false' } as unknown as DenyEntry;

    // Act / Assess
    expect(() => renderDenyPolicies([bad], FRESH_ROLE_OPTIONS)).toThrow(InvalidDenyEntryError);
  });

  it('fails an entry that is not an object', () => {
    // Act / Assess
    expect(() => renderDenyPolicies([null as unknown as DenyEntry], FRESH_ROLE_OPTIONS)).toThrow(
      InvalidDenyEntryError,
    );
  });

  it('fails the whole render when one entry among valid ones is bad', () => {
    // Prepare
    const entries = [...ec2Entries(10), entry('i-*')];

    // Act / Assess
    expect(() => renderDenyPolicies(entries, FRESH_ROLE_OPTIONS)).toThrow(InvalidDenyEntryError);
  });

  it('fails with a lowercase message that names the bad value', () => {
    // Act / Assess
    expect(() => renderDenyPolicies([entry('i-0a*')], FRESH_ROLE_OPTIONS)).toThrow(
      /^session name "i-0a\*" is invalid: expected 2-64 characters/,
    );
    expect(() => renderDenyPolicies([entry('i-0aaa', { notAfter: 'soon' })], FRESH_ROLE_OPTIONS)).toThrow(
      /^notAfter "soon" is invalid: expected an ISO-8601 UTC instant/,
    );
  });

  for (const [key, value] of [
    ['inlineBudget', -1],
    ['managedBudget', 1.5],
    ['maxManagedPolicies', Number.NaN],
  ] as const) {
    it(`fails render option ${key} = ${value}`, () => {
      // Act / Assess
      expect(() => renderDenyPolicies([], { ...FRESH_ROLE_OPTIONS, [key]: value })).toThrow(RangeError);
    });
  }
});

describe('assertValidSessionName', () => {
  it('accepts every character a RoleSessionName may hold', () => {
    // Act / Assess
    expect(() => assertValidSessionName('aZ09_+=,.@-')).not.toThrow();
    expect(() => assertValidSessionName('a'.repeat(64))).not.toThrow();
    expect(() => assertValidSessionName('AWSCodeBuild-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0')).not.toThrow();
    expect(SESSION_NAME_PATTERN.test('ab')).toBe(true);
  });

  it('fails a name with a wildcard and names it in the message', () => {
    // Act / Assess
    expect(() => assertValidSessionName('*')).toThrow(InvalidDenyEntryError);
    expect(() => assertValidSessionName('*')).toThrow(/session name "\*" is invalid/);
  });
});

describe('policySize', () => {
  it('counts the JSON text without whitespace', () => {
    // Prepare
    const rendered = renderDenyPolicies([entry('i-0aaa')], FRESH_ROLE_OPTIONS);
    const doc = rendered.inline as PolicyDocument;

    // Act
    const size = policySize(doc);

    // Assess
    expect(size).toBe(JSON.stringify(doc).length);
    expect(size).toBe(JSON.stringify(doc, null, 2).replace(/\s/g, '').length);
  });

  it('sizes another policy text as IAM counts it, ignoring formatting whitespace', () => {
    // Prepare
    const text =
      '{\n  "Version": "2012-10-17",\n  "Statement": [ { "Effect": "Allow", "Action": "s3:*" } ]\n}';

    // Act
    const size = policyTextSize(text);

    // Assess
    expect(size).toBe('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}'.length);
  });
});

describe('pruneEntries', () => {
  const now = new Date('2024-05-01T18:00:00.000Z');

  it('prunes an entry whose expiry equals now and keeps one expiring a millisecond later', () => {
    // Prepare
    const expired = entry('i-0aaa', { expiresAt: '2024-05-01T18:00:00Z' });
    const live = entry('i-0bbb', { expiresAt: '2024-05-01T18:00:00.001Z' });

    // Act
    const result = pruneEntries([expired, live], now);

    // Assess
    expect(result).toEqual({ kept: [live], pruned: [expired] });
  });

  it('keeps an entry expiring a fraction of a millisecond after now', () => {
    // Prepare
    const live = entry('i-0aaa', { expiresAt: '2024-05-01T18:00:00.0001Z' });

    // Act
    const result = pruneEntries([live], now);

    // Assess
    expect(result.kept).toEqual([live]);
  });

  it('preserves order and duplicates', () => {
    // Prepare
    const a = entry('i-0aaa', { expiresAt: '2024-05-01T17:00:00Z' });
    const b = entry('i-0bbb', { expiresAt: '2024-05-01T19:00:00Z' });
    const c = entry('i-0ccc', { expiresAt: '2024-05-01T16:00:00Z' });

    // Act
    const result = pruneEntries([a, b, c, a, b], now);

    // Assess
    expect(result).toEqual({ kept: [b, b], pruned: [a, c, a] });
  });

  it('fails an entry whose expiry cannot be read', () => {
    // Act / Assess
    expect(() => pruneEntries([entry('i-0aaa', { expiresAt: 'tomorrow' })], now)).toThrow(
      InvalidDenyEntryError,
    );
  });

  it('fails an invalid now', () => {
    // Act / Assess
    expect(() => pruneEntries([entry('i-0aaa')], new Date(Number.NaN))).toThrow(RangeError);
  });
});
