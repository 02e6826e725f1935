/**
 * The audit report, rendered in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
 * and asserted on its DOM: rows per workload, time-to-revoke values, highlighted failed and skipped rows,
 * the chart's bars, the verification status and seals, escaping of hostile record values, and that the
 * page makes no request at all. Chromium missing fails this file (CI installs it; see .ci/run).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAuditReportHtml } from '../../cli/report-html.ts';
import { buildRecord, chainHeadOf } from '../../lambdas/audit/audit-chain.ts';
import {
  buildAuditReport,
  TIME_TO_REVOKE_BINS,
  type VerificationSummary,
} from '../../lambdas/audit/audit-report.ts';
import type { AuditRecord, AuditRecordInput } from '../../lambdas/shared/schemas/audit-record.ts';

// Used inside page callbacks (they run in Chromium); the project's tsconfig has no DOM lib.
declare const getComputedStyle: (element: unknown) => { backgroundColor: string };
declare const window: { __pwned?: number };

const CHROMIUM = '/usr/bin/chromium';
const HOSTILE =
  '<script>window.__pwned=1</script><img src="http://127.0.0.1:9/x" onerror="window.__pwned=2">';
const EC2 = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0';
const BATCH = 'custom/batch-"7"&more';
const CALLER = 'arn:aws:sts::123456789012:assumed-role/deployer/ci-run-9';
const ENDED = '2024-05-01T12:00:00.000Z';

function chain(inputs: Partial<AuditRecordInput>[]): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (const input of inputs) {
    const last = records.at(-1);
    const full = {
      actor: { type: 'function', name: 'revoker' },
      outcome: 'success',
      ...input,
    } as AuditRecordInput;
    records.push(buildRecord(full, last ? chainHeadOf(last) : null, 'main'));
  }
  return records;
}

const RECORDS = chain([
  {
    type: 'issued',
    at: '2024-05-01T11:00:00.000Z',
    workloadId: HOSTILE,
    credentialId: 'rs-h',
    credentialKind: 'role-session',
    details: { callerArn: CALLER, sourceIp: '203.0.113.7', requestReason: `deploy ${HOSTILE}` },
  },
  {
    type: 'revocation-requested',
    at: '2024-05-01T12:00:00.400Z',
    workloadId: HOSTILE,
    credentialId: 'rs-h',
    details: { endedAt: ENDED },
  },
  {
    type: 'revoked',
    at: '2024-05-01T12:00:01.250Z',
    workloadId: HOSTILE,
    credentialId: 'rs-h',
    details: { endedAt: ENDED },
  },
  {
    type: 'issued',
    at: '2024-05-01T11:00:00.000Z',
    workloadId: EC2,
    credentialId: 'rs-a',
    credentialKind: 'role-session',
  },
  {
    type: 'issued',
    at: '2024-05-01T11:00:00.000Z',
    workloadId: EC2,
    credentialId: 'ak-b',
    credentialKind: 'access-key',
  },
  {
    type: 'revoked',
    at: '2024-05-01T12:01:15.000Z',
    workloadId: EC2,
    credentialId: 'rs-a',
    details: { endedAt: ENDED },
  },
  {
    type: 'failed',
    at: '2024-05-01T12:02:00.000Z',
    workloadId: EC2,
    credentialId: 'ak-b',
    outcome: 'error',
    reason: 'AccessDenied on UpdateAccessKey',
  },
  {
    type: 'skipped',
    at: '2024-05-01T12:00:02.000Z',
    workloadId: BATCH,
    credentialId: 'rs-c',
    credentialKind: 'role-session',
    outcome: 'skipped',
    reason: 'role is not opted in',
  },
  {
    type: 'refused',
    at: '2024-05-01T12:03:00.000Z',
    workloadId: BATCH,
    outcome: 'invalid-request',
    reason: 'invalid broker request: reason: is required (1-256 characters)',
    details: { via: 'function-url', callerArn: CALLER, sourceIp: '198.51.100.4' },
  },
]);

const VERIFIED: VerificationSummary = {
  ok: true,
  status: 'intact: 9 records verified (seq 1-9), head at seq 9',
  checkedAt: '2024-05-01T13:00:00.000Z',
  recordsVerified: 9,
  seals: [
    { shard: '0', sealedAt: '2024-05-01T12:10:00.000Z', digest: 'a'.repeat(64), signatureValid: true },
    { shard: '1', sealedAt: '2024-05-01T12:10:00.000Z', digest: 'b'.repeat(64), signatureValid: false },
  ],
};

let browser: Browser;
const requests: string[] = [];

async function open(html: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('request', (request) => {
    requests.push(request.url());
  });
  await page.route('**/*', async (route) => {
    requests.push(route.request().url());
    await route.abort();
  });
  await page.setContent(html, { waitUntil: 'load' });
  return page;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium (.ci/run does)`,
    );
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
});

describe('sundown audit report (rendered in Chromium)', () => {
  it('shows each workload with its credentials, time-to-revoke, highlights and chart, and requests nothing', async () => {
    // Prepare
    const report = buildAuditReport(RECORDS, VERIFIED, { generatedAt: '2024-05-01T13:00:00.000Z' });

    // Act
    const page = await open(renderAuditReportHtml(report));

    // Assess: one section per workload, rows per credential.
    const sections = await page.$$eval('section.workload', (els) =>
      els.map((el) => ({
        id: el.getAttribute('data-workload-id'),
        rows: el.querySelectorAll('tr.credential').length,
      })),
    );
    expect(sections).toEqual(
      [
        { id: HOSTILE, rows: 1 },
        { id: EC2, rows: 2 },
        { id: BATCH, rows: 1 },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    const ttr = await page.$$eval('tr.credential', (rows) =>
      rows.map((r) => [r.getAttribute('data-credential-id'), r.querySelector('td.ttr')?.textContent]),
    );
    expect(Object.fromEntries(ttr)).toEqual({ 'rs-h': '1.250s', 'rs-a': '1m 15.0s', 'ak-b': '', 'rs-c': '' });
    // Failed and skipped rows are highlighted (their cells' computed background is not white).
    const backgrounds = await page.$$eval('tr.credential', (rows) =>
      Object.fromEntries(
        rows.map((r) => [
          r.getAttribute('data-status'),
          getComputedStyle(r.querySelector('td')).backgroundColor,
        ]),
      ),
    );
    expect(backgrounds.failed).toBe('rgb(255, 235, 233)');
    expect(backgrounds.skipped).toBe('rgb(255, 248, 197)');
    expect(backgrounds.revoked).toBe('rgba(0, 0, 0, 0)');
    expect(await page.$$eval('#problems li', (li) => li.map((l) => l.className))).toEqual([
      'problem problem-failed',
      'problem problem-skipped',
    ]);
    // The chart: one bar per bin; the counts add up to the revoked credentials, each in its bin.
    const bars = await page.$$eval('svg.distribution rect.bar', (rects) =>
      rects.map((r) => [
        r.getAttribute('data-label'),
        Number(r.getAttribute('data-count')),
        Number(r.getAttribute('height')),
      ]),
    );
    expect(bars).toHaveLength(TIME_TO_REVOKE_BINS.length);
    expect(bars.filter(([, count]) => (count as number) > 0)).toEqual([
      ['1-5 s', 1, expect.any(Number)],
      ['1-5 min', 1, expect.any(Number)],
    ]);
    expect(bars.every(([, count, height]) => (count === 0) === (height === 0))).toBe(true);
    // Who asked, from where, why; and the refused request.
    expect(await page.textContent('tr[data-credential-id="rs-h"]')).toContain(`${CALLER} from 203.0.113.7`);
    expect(await page.$$eval('tr.event-refused', (r) => r.map((x) => x.textContent))).toEqual([
      expect.stringContaining('198.51.100.4'),
    ]);
    // Verification status and seals.
    expect(await page.textContent('#verification-status')).toBe(
      'Audit trail verified: intact: 9 records verified (seq 1-9), head at seq 9',
    );
    expect(await page.$$eval('tr.seal', (r) => r.map((x) => x.className))).toEqual([
      'seal seal-valid',
      'seal seal-invalid',
    ]);
    // Hostile values are text, never markup: no script ran, no image element exists.
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.$$('section.workload img, section.workload script')).toEqual([]);
    expect(
      await page.textContent(`section.workload[data-workload-id="${HOSTILE.replace(/"/g, '\\"')}"] h3`),
    ).toBe(HOSTILE);
    // Self-contained: not one request left the page.
    expect(requests).toEqual([]);
    await page.close();
  });

  it('says plainly when the chain is not verified', async () => {
    const report = buildAuditReport(
      RECORDS,
      {
        ok: false,
        status: 'broken at seq 4: record modified',
        checkedAt: ENDED,
        recordsVerified: 3,
        problem: 'hash mismatch',
      },
      { generatedAt: ENDED, since: '2024-05-01T00:00:00.000Z' },
    );

    const page = await open(renderAuditReportHtml(report));

    expect(await page.textContent('#verification-status')).toBe(
      'Audit trail NOT verified: broken at seq 4: record modified',
    );
    expect(await page.$eval('#verification-status', (el) => getComputedStyle(el).backgroundColor)).toBe(
      'rgb(255, 235, 233)',
    );
    expect(await page.textContent('#no-seals')).toContain('No seals');
    expect(requests).toEqual([]);
    await page.close();
  });
});
