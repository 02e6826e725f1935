import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DenyEntry,
  InvalidDenyEntryError,
  type PolicyDocument,
  policySize,
  pruneEntries,
  type RenderedPolicies,
  type RenderOptions,
  renderDenyPolicies,
  SESSION_NAME_PATTERN,
  UNBOUNDED_COARSENING,
} from '../../lambdas/revocation/deny-policy.ts';

const BASE_MILLIS = Date.parse('2024-05-01T00:00:00Z');
const SIX_HOURS = 6 * 3_600_000;

/** A small pool so that generated entries often share names and bounds, plus arbitrary valid names. */
const sessionNameArb = fc.oneof(
  fc.constantFrom(
    'i-0aaaaaaaaaaaaaaaa',
    'i-0bbbbbbbbbbbbbbbb',
    'orders-fn',
    'task-7f3e',
    'AWSCodeBuild-1a2b',
  ),
  fc.stringMatching(/^[\w+=,.@-]{2,64}$/),
);

/** An instant, with millisecond precision or whole seconds, sometimes aligned to a shared minute. */
const instantArb = fc
  .tuple(
    fc.oneof(
      fc.integer({ min: 0, max: SIX_HOURS }),
      fc.integer({ min: 0, max: 360 }).map((m) => m * 60_000),
    ),
    fc.boolean(),
  )
  .map(([offset, wholeSeconds]) => {
    const iso = new Date(BASE_MILLIS + offset).toISOString();
    return wholeSeconds ? `${iso.slice(0, 19)}Z` : iso;
  });

const entryArb: fc.Arbitrary<DenyEntry> = fc.record({
  sessionName: sessionNameArb,
  notAfter: instantArb,
  expiresAt: instantArb,
  reusableName: fc.boolean(),
});

const entriesArb = fc.array(entryArb, { maxLength: 80, size: 'large' });

/** Budgets from "nothing fits" to a fresh role, so overflow, coarsening and unplaced entries all occur. */
const optionsArb: fc.Arbitrary<RenderOptions> = fc.record({
  inlineBudget: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.constant(10_240)),
  managedBudget: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.constant(6_144)),
  maxManagedPolicies: fc.integer({ min: 0, max: 3 }),
});

function documentsOf(rendered: RenderedPolicies): PolicyDocument[] {
  return [...(rendered.inline ? [rendered.inline] : []), ...rendered.managed];
}

function denials(rendered: RenderedPolicies): Array<{ value: string; boundMillis: number }> {
  return documentsOf(rendered).flatMap((doc) =>
    doc.Statement.flatMap((statement) =>
      statement.Condition.StringLike['aws:userid'].map((value) => ({
        value,
        // No date condition: the name is denied whenever its session was issued.
        boundMillis: statement.Condition.DateLessThan
          ? Date.parse(statement.Condition.DateLessThan['aws:TokenIssueTime'])
          : Number.POSITIVE_INFINITY,
      })),
    ),
  );
}

/** The exact bound of an instant: rounded up to the whole second (independent of the implementation). */
function exactBoundMillis(iso: string): number {
  return Math.ceil(Date.parse(iso) / 1000) * 1000;
}

/** The latest exact bound among the entries for each session name. */
function latestExactBoundByName(entries: readonly DenyEntry[]): Map<string, number> {
  const latest = new Map<string, number>();
  for (const { sessionName, notAfter } of entries) {
    latest.set(sessionName, Math.max(latest.get(sessionName) ?? 0, exactBoundMillis(notAfter)));
  }
  return latest;
}

function normalized({ sessionName, notAfter, expiresAt, reusableName }: DenyEntry): DenyEntry {
  return { sessionName, notAfter, expiresAt, reusableName };
}

describe('renderDenyPolicies properties', () => {
  it('keeps every document within its budget and reports sizes truthfully', () => {
    fc.assert(
      fc.property(entriesArb, optionsArb, (entries, opts) => {
        // Act
        const rendered = renderDenyPolicies(entries, opts);

        // Assess
        if (rendered.inline) expect(policySize(rendered.inline)).toBeLessThanOrEqual(opts.inlineBudget);
        for (const doc of rendered.managed) expect(policySize(doc)).toBeLessThanOrEqual(opts.managedBudget);
        expect(rendered.managed.length).toBeLessThanOrEqual(opts.maxManagedPolicies);
        for (const doc of documentsOf(rendered)) expect(doc.Statement.length).toBeGreaterThan(0);
        const used = documentsOf(rendered).reduce((sum, doc) => sum + policySize(doc), 0);
        expect(rendered.charsUsed).toBe(used);
        expect(rendered.charsCapacity).toBe(opts.inlineBudget + opts.managedBudget * opts.maxManagedPolicies);
        expect(rendered.charsUsed).toBeLessThanOrEqual(rendered.charsCapacity);
      }),
      { numRuns: 300 },
    );
  });

  it('depends only on the set of entries (duplicates and order do not matter)', () => {
    const withShuffle = entriesArb.chain((entries) =>
      fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length })),
    );
    fc.assert(
      fc.property(withShuffle, optionsArb, ([entries, shuffled], opts) => {
        // Act
        const rendered = renderDenyPolicies(entries, opts);

        // Assess
        expect(renderDenyPolicies([...entries, ...entries], opts)).toEqual(rendered);
        expect(renderDenyPolicies(shuffled, opts)).toEqual(rendered);
        expect(renderDenyPolicies([...shuffled, ...entries.slice(0, 3)], opts)).toEqual(rendered);
      }),
      { numRuns: 200 },
    );
  });

  it('denies every entry with a bound at or after its end, or reports it unplaced', () => {
    fc.assert(
      fc.property(entriesArb, optionsArb, (entries, opts) => {
        // Act
        const rendered = renderDenyPolicies(entries, opts);

        // Assess
        const all = denials(rendered);
        const unplacedNames = new Set(rendered.unplaced.map((e) => e.sessionName));
        for (const entry of entries) {
          const covered = all.some(
            (d) => d.value === `*:${entry.sessionName}` && d.boundMillis >= Date.parse(entry.notAfter),
          );
          const unplaced = rendered.unplaced.some(
            (u) => JSON.stringify(u) === JSON.stringify(normalized(entry)),
          );
          expect(covered || unplaced).toBe(true);
        }
        for (const d of all) expect(unplacedNames.has(d.value.slice(2))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never widens a bound of a reusable name beyond its exact end', () => {
    fc.assert(
      fc.property(entriesArb, optionsArb, (entries, opts) => {
        // Act
        const rendered = renderDenyPolicies(entries, opts);

        // Assess
        const latest = latestExactBoundByName(entries);
        const reusable = new Set(entries.filter((e) => e.reusableName).map((e) => e.sessionName));
        for (const d of denials(rendered)) {
          const name = d.value.slice(2);
          if (reusable.has(name)) expect(d.boundMillis).toBe(latest.get(name));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives a reusable entry exactly its own end, rounded up to the second, when names are unique', () => {
    const uniqueNames = fc.uniqueArray(entryArb, {
      maxLength: 80,
      size: 'large',
      selector: (e) => e.sessionName,
    });
    fc.assert(
      fc.property(uniqueNames, optionsArb, (entries, opts) => {
        // Act
        const rendered = renderDenyPolicies(entries, opts);

        // Assess
        const all = denials(rendered);
        for (const entry of entries.filter((e) => e.reusableName)) {
          for (const d of all.filter((x) => x.value === `*:${entry.sessionName}`)) {
            expect(d.boundMillis).toBe(exactBoundMillis(entry.notAfter));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every bound exact unless it reports coarsening, and within one bucket when it does', () => {
    fc.assert(
      fc.property(entriesArb, optionsArb, (entries, opts) => {
        // Act
        const rendered = renderDenyPolicies(entries, opts);

        // Assess
        const latest = latestExactBoundByName(entries);
        const slackMillis =
          rendered.coarsenedSeconds === UNBOUNDED_COARSENING
            ? Number.POSITIVE_INFINITY
            : Math.max(rendered.coarsenedSeconds * 1000 - 1000, 0);
        for (const d of denials(rendered)) {
          const exact = latest.get(d.value.slice(2)) as number;
          expect(d.boundMillis).toBeGreaterThanOrEqual(exact);
          expect(d.boundMillis - exact).toBeLessThanOrEqual(slackMillis);
        }
        expect([0, 10, 60, 300, 900, 3600, UNBOUNDED_COARSENING]).toContain(rendered.coarsenedSeconds);
      }),
      { numRuns: 300 },
    );
  });

  it('writes only *:<input session name> values and well-formed statements', () => {
    fc.assert(
      fc.property(entriesArb, optionsArb, (entries, opts) => {
        // Act
        const rendered = renderDenyPolicies(entries, opts);

        // Assess
        const inputNames = new Set(entries.map((e) => e.sessionName));
        for (const doc of documentsOf(rendered)) {
          expect(Object.keys(doc)).toEqual(['Version', 'Statement']);
          const unbounded = doc.Statement.filter((statement) => !statement.Condition.DateLessThan);
          // At most one statement without a date condition, the last, and only at the unbounded level.
          expect(unbounded.length).toBeLessThanOrEqual(1);
          if (unbounded.length > 0) {
            expect(rendered.coarsenedSeconds).toBe(UNBOUNDED_COARSENING);
            expect(doc.Statement.at(-1)).toBe(unbounded[0]);
          }
          for (const statement of doc.Statement) {
            expect(Object.keys(statement)).toEqual(['Effect', 'Action', 'Resource', 'Condition']);
            expect([statement.Effect, statement.Action, statement.Resource]).toEqual(['Deny', '*', '*']);
            const { DateLessThan: date, ...rest } = statement.Condition;
            expect(Object.keys(rest)).toEqual(['StringLike']);
            expect(Object.keys(statement.Condition.StringLike)).toEqual(['aws:userid']);
            if (date) {
              expect(Object.keys(statement.Condition)).toEqual(['StringLike', 'DateLessThan']);
              expect(date['aws:TokenIssueTime']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
            }
            const values = statement.Condition.StringLike['aws:userid'];
            expect(values).toEqual([...values].sort());
            for (const value of values) {
              expect(value).toMatch(/^\*:[\w+=,.@-]{2,64}$/);
              expect(inputNames.has(value.slice(2))).toBe(true);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('rejects any session name outside the pattern instead of rendering it', () => {
    const anyName = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 70 }),
      fc
        .tuple(
          fc.stringMatching(/^[\w+=,.@-]{1,40}$/),
          fc.constantFrom('*', '?', ':', '"', ' ', '$', '\\', '\n', '/'),
        )
        .map(([name, bad]) => `${name}${bad}`),
    );
    fc.assert(
      fc.property(anyName, entriesArb, (name, others) => {
        // Prepare
        const entries = [
          ...others,
          {
            sessionName: name,
            notAfter: '2024-05-01T12:00:00Z',
            expiresAt: '2024-05-01T18:00:00Z',
            reusableName: false,
          },
        ];

        // Act
        const render = () =>
          renderDenyPolicies(entries, { inlineBudget: 10_240, managedBudget: 6_144, maxManagedPolicies: 10 });

        // Assess
        if (SESSION_NAME_PATTERN.test(name)) expect(render).not.toThrow();
        else expect(render).toThrow(InvalidDenyEntryError);
      }),
      { numRuns: 300 },
    );
  });
});

describe('pruneEntries properties', () => {
  it('never prunes an unexpired entry and returns exactly the input split in two', () => {
    const nowArb = fc.integer({ min: 0, max: SIX_HOURS }).map((offset) => new Date(BASE_MILLIS + offset));
    fc.assert(
      fc.property(entriesArb, nowArb, (entries, now) => {
        // Act
        const { kept, pruned } = pruneEntries(entries, now);

        // Assess
        for (const e of kept) expect(Date.parse(e.expiresAt)).toBeGreaterThan(now.getTime());
        for (const e of pruned) expect(Date.parse(e.expiresAt)).toBeLessThanOrEqual(now.getTime());
        expect(kept.length + pruned.length).toBe(entries.length);
        expect(kept).toEqual(entries.filter((e) => kept.includes(e)));
        expect(pruned).toEqual(entries.filter((e) => pruned.includes(e)));
        expect(new Set([...kept, ...pruned])).toEqual(new Set(entries));
      }),
      { numRuns: 300 },
    );
  });
});
