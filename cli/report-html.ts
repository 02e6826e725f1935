/**
 * Renders an `AuditReport` as one self-contained HTML file (pure): inline CSS, an inline SVG chart,
 * no script, no external resource, and a Content-Security-Policy that forbids loading anything, so
 * the file opens offline and a value that slipped past escaping still could not fetch or run code.
 * Every value taken from records goes through `esc` (workload IDs and reasons are attacker-influenced).
 */
import type {
  AuditReport,
  SealSummary,
  TimeToRevokeBin,
  VerificationSummary,
  WorkloadReport,
} from '../lambdas/audit/index.ts';
import { formatDuration } from '../lambdas/audit/index.ts';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** HTML-escapes any value (text and quoted attribute values alike). */
export function esc(value: unknown): string {
  if (value === undefined || value === null) return '';
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'";

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1f24;background:#fff}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}
h3{font-size:.95rem;margin:1.25rem 0 .35rem;font-family:ui-monospace,monospace;word-break:break-all}
.meta{color:#57606a}table{border-collapse:collapse;width:100%;margin:.25rem 0 1rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
tr.status-failed td{background:#ffebe9}tr.status-skipped td{background:#fff8c5}
.badge{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:12px;font-weight:600}
.badge-failed{background:#cf222e;color:#fff}.badge-skipped{background:#9a6700;color:#fff}
.badge-revoked{background:#1a7f37;color:#fff}.badge-other{background:#6e7781;color:#fff}
.verify{padding:.6rem .9rem;border-radius:.4rem;font-weight:600}
.verify-ok{background:#dafbe1;border:1px solid #1a7f37}.verify-broken{background:#ffebe9;border:1px solid #cf222e}
.totals span{margin-right:1.25rem}svg text{font:11px system-ui,sans-serif;fill:#1b1f24}
.bar{fill:#0969da}.seal-invalid td{background:#ffebe9}
`;

function badge(status: string): string {
  const kind = ['failed', 'skipped', 'revoked'].includes(status) ? status : 'other';
  return `<span class="badge badge-${kind}">${esc(status)}</span>`;
}

function duration(ms: number | undefined): string {
  return ms === undefined ? '' : esc(formatDuration(ms));
}

function settledAt(c: WorkloadReport['credentials'][number]): string | undefined {
  return c.revokedAt ?? c.failedAt ?? c.skippedAt ?? c.dryRunAt ?? c.expiredAt;
}

function workloadSection(w: WorkloadReport): string {
  const rows = w.credentials
    .map(
      (
        c,
      ) => `<tr class="credential status-${esc(c.status)}" data-credential-id="${esc(c.credentialId)}" data-status="${esc(c.status)}">
<td class="mono">${esc(c.credentialId)}</td><td>${esc(c.credentialKind)}</td><td>${badge(c.status)}</td>
<td class="mono">${esc(c.issuedAt)}</td><td class="mono">${esc(c.endedAt)}</td><td class="mono">${esc(settledAt(c))}</td>
<td class="ttr" data-ms="${esc(c.timeToRevokeMs)}">${duration(c.timeToRevokeMs)}</td>
<td class="mono">${esc(c.requestedBy)}${c.sourceIp ? ` <span class="meta">from ${esc(c.sourceIp)}</span>` : ''}</td>
<td>${esc(c.requestReason ?? (c.status === 'failed' || c.status === 'skipped' ? c.reason : ''))}</td></tr>`,
    )
    .join('\n');
  const events = w.events
    .map(
      (
        e,
      ) => `<tr class="event event-${esc(e.type)}"><td class="mono">${esc(e.seq)}</td><td class="mono">${esc(e.at)}</td>
<td>${esc(e.type)}</td><td>${esc(e.outcome)}</td><td>${esc(e.reason)}</td><td class="mono">${esc(e.requestedBy)}${
        e.sourceIp ? ` <span class="meta">from ${esc(e.sourceIp)}</span>` : ''
      }</td></tr>`,
    )
    .join('\n');
  return `<section class="workload" data-workload-id="${esc(w.workloadId)}">
<h3>${esc(w.workloadId)}</h3>
${
  w.credentials.length
    ? `<table class="credentials"><thead><tr><th>credential</th><th>kind</th><th>status</th><th>issued</th><th>ended</th>
<th>revoked / settled</th><th>time-to-revoke</th><th>requested by</th><th>reason</th></tr></thead><tbody>
${rows}
</tbody></table>`
    : ''
}${
  w.events.length
    ? `<table class="events"><thead><tr><th>seq</th><th>at</th><th>type</th><th>outcome</th><th>reason</th><th>requested by</th></tr></thead><tbody>
${events}
</tbody></table>`
    : ''
}</section>`;
}

/** A bar chart of the time-to-revoke bins: one `rect.bar` per bin, height proportional to its count. */
export function distributionSvg(bins: readonly TimeToRevokeBin[]): string {
  const width = 640;
  const height = 220;
  const left = 36;
  const bottom = 30;
  const top = 14;
  const slot = (width - left) / Math.max(1, bins.length);
  const max = Math.max(1, ...bins.map((b) => b.count));
  const plot = height - bottom - top;
  const bars = bins
    .map((bin, i) => {
      const h = Math.round((bin.count / max) * plot);
      const x = Math.round(left + i * slot + slot * 0.15);
      const w = Math.round(slot * 0.7);
      const y = top + plot - h;
      return `<g><title>${esc(bin.label)}: ${esc(bin.count)}</title>
<rect class="bar" x="${x}" y="${y}" width="${w}" height="${h}" data-label="${esc(bin.label)}" data-count="${esc(bin.count)}"></rect>
<text x="${x + w / 2}" y="${Math.max(top, y - 3)}" text-anchor="middle">${esc(bin.count)}</text>
<text x="${x + w / 2}" y="${height - bottom + 16}" text-anchor="middle">${esc(bin.label)}</text></g>`;
    })
    .join('\n');
  return `<svg class="distribution" xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-label="time-to-revoke distribution">
<line x1="${left}" y1="${top + plot}" x2="${width}" y2="${top + plot}" stroke="#8c959f"></line>
<text x="2" y="${top + 8}">${esc(max)}</text><text x="2" y="${top + plot}">0</text>
${bars}
</svg>`;
}

function sealRows(seals: readonly SealSummary[]): string {
  return seals
    .map(
      (
        s,
      ) => `<tr class="seal ${s.signatureValid ? 'seal-valid' : 'seal-invalid'}"><td class="mono">${esc(s.shard)}</td>
<td class="mono">${esc(s.sealedAt)}</td><td class="mono">${esc(s.digest)}</td><td>${s.signatureValid ? 'valid' : 'INVALID'}</td></tr>`,
    )
    .join('\n');
}

function verificationSection(v: VerificationSummary): string {
  const seals = v.seals ?? [];
  return `<section id="verification">
<h2>Verification</h2>
<p class="verify ${v.ok ? 'verify-ok' : 'verify-broken'}" id="verification-status">Audit trail ${v.ok ? 'verified' : 'NOT verified'}: ${esc(v.status)}</p>
${v.problem ? `<p id="verification-problem">${esc(v.problem)}</p>` : ''}
<p class="meta">checked at ${esc(v.checkedAt)}</p>
${
  seals.length
    ? `<table class="seals"><thead><tr><th>shard</th><th>sealed at</th><th>digest</th><th>signature</th></tr></thead><tbody>
${sealRows(seals)}
</tbody></table>`
    : '<p class="meta" id="no-seals">No seals: this chain is verified by recomputing its hashes only.</p>'
}
</section>`;
}

export function renderAuditReportHtml(report: AuditReport): string {
  const t = report.totals;
  const window =
    report.since || report.until
      ? `${esc(report.since ?? 'the start')} to ${esc(report.until ?? 'now')}`
      : 'all records';
  const problems = report.workloads.flatMap((w) =>
    w.credentials.filter((c) => c.status === 'failed' || c.status === 'skipped').map((c) => ({ w, c })),
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sundown audit report</title>
<style>${CSS}</style></head>
<body>
<h1>Sundown audit report</h1>
<p class="meta">Generated ${esc(report.generatedAt)} · ${window} · ${esc(report.recordCount)} audit records</p>
${verificationSection(report.verification)}
<h2>Summary</h2>
<p class="totals"><span id="total-workloads">${esc(report.workloads.length)} workloads</span><span>${esc(t.credentials)} credentials</span>
<span id="total-revoked">${esc(t.revoked)} revoked</span><span id="total-failed">${esc(t.failed)} failed</span>
<span id="total-skipped">${esc(t.skipped)} skipped</span><span id="total-refused">${esc(t.refused)} refused broker requests</span>
${report.p50Ms === undefined ? '' : `<span>median time-to-revoke ${duration(report.p50Ms)}, slowest ${duration(report.maxMs)}</span>`}</p>
<h2>Time to revoke</h2>
${distributionSvg(report.distribution)}
<h2>Failed and skipped revocations</h2>
${
  problems.length
    ? `<ul id="problems">${problems
        .map(
          ({ w, c }) =>
            `<li class="problem problem-${esc(c.status)}">${badge(c.status)} <code>${esc(c.credentialId)}</code> of <code>${esc(w.workloadId)}</code>: ${esc(c.reason)}</li>`,
        )
        .join('\n')}</ul>`
    : '<p id="problems-none">None.</p>'
}
<h2>Workloads</h2>
${report.workloads.length ? report.workloads.map(workloadSection).join('\n') : '<p>No workload records in this window.</p>'}
</body></html>
`;
}
