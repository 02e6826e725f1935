/** The Markdown tables BENCHMARKS.md shows, rendered from a run's results. */

import { UNBOUNDED_COARSENING } from '../lambdas/revocation/deny-policy.ts';
import type { BurstResult } from './burst-result.ts';
import { callsByService, type Results, round, s1 } from './report.ts';

export function markdown(r: Results): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(
    `Run: ${r.mode}, ${r.date}, commit ${r.commit.slice(0, 12)}${r.treeClean ? ' (clean tree)' : ' (**dirty tree**: uncommitted changes were measured)'}. Machine: ${m.nproc} vCPU (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, moto ${m.moto} (Python ${m.python}). Load average at start ${r.loadAverage.start.map((x) => round(x, 1)).join(' / ')}, at end ${r.loadAverage.end.map((x) => round(x, 1)).join(' / ')}. Baseline: ${r.naiveConcurrency} concurrent workers. Total run ${s1(r.durationsMs.total ?? 0)}.`,
  );
  lines.push('');
  lines.push('### Burst of terminations (Sundown vs. naive baseline, same emulator, same run)');
  lines.push('');
  lines.push(
    '| scenario | system | IAM writes / workload | DynamoDB / workload | AWS calls / workload (own + polling) | end-to-end | time-to-revoke from first put p50 / p95 / p99 | from its own event p50 / p99 | lost | max IAM writes per role per batch |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const s of r.scenarios) {
    for (const b of [s.sundown, s.naive]) {
      const t = b.timing.timeToRevokeMs;
      lines.push(
        `| ${s.scenario} | ${b.system} | ${b.perWorkload.iamWrites} | ${b.perWorkload.dynamodb} | ${b.perWorkload.handlerCalls} + ${round(b.perWorkload.allCalls - b.perWorkload.handlerCalls)} | ${s1(b.timing.endToEndMs)} | ${s1(t.p50)} / ${s1(t.p95)} / ${s1(t.p99)} | ${b.timing.sinceOwnEventMs ? `${s1(b.timing.sinceOwnEventMs.p50)} / ${s1(b.timing.sinceOwnEventMs.p99)}` : '-'} | ${b.lost}${
          b.lost
            ? ` (${Object.entries(b.lostDetail)
                .map(([k, v]) => `${v} ${k.split(':')[0]}`)
                .join(', ')})`
            : ''
        } | ${b.batches ? b.batches.maxWritesPerRolePerBatch : '-'} |`,
      );
    }
    lines.push(
      `| ${s.scenario} | **ratio** | **${s.ratios.iamWritesFewer ?? 'n/a'}x fewer** | | **${s.ratios.callsMore}x more** | **${s.ratios.speedup >= 1 ? `${round(s.ratios.speedup, 2)}x faster` : `${round(1 / s.ratios.speedup, 1)}x slower`}** | | | | |`,
    );
  }
  for (const s of r.scenarios.filter((x) => (x.accounts ?? 1) > 1)) {
    lines.push('');
    lines.push(
      `${s.scenario}: ${s.instances} instances spread evenly over ${s.accounts} accounts (a hub and its spokes), ${s.roles} opted-in roles in each; ${s.delivery ?? 'delivery not recorded'}.`,
    );
  }
  for (const s of r.scenarios.filter((x) => x.iamWritesPerSecond)) {
    const refused = (b: BurstResult) => b.calls.iamThrottled ?? 0;
    lines.push('');
    lines.push(
      `${s.scenario}: both systems' IAM writes rationed to ${s.iamWritesPerSecond} a second (at most ${s.iamWritesPerSecond} at once) by the counting proxy, which answers IAM's \`Throttling: Rate exceeded\` beyond that, as IAM's account-wide token buckets do (AWS publishes no rate: ${s.iamWritesPerSecond}/s is an assumption). Both retry with Sundown's SDK policy (standard mode, 8 attempts). Writes refused as Throttling (each retried or lost): Sundown ${refused(s.sundown)}, the baseline ${refused(s.naive)}. Not judged against the targets below, which are the emulator's.`,
    );
  }
  lines.push('');
  lines.push("### Sundown's own AWS calls per ended workload, by service");
  lines.push('');
  lines.push('| scenario | own calls / workload | by service |');
  lines.push('|---|---|---|');
  for (const s of r.scenarios) {
    lines.push(
      `| ${s.scenario} | ${s.sundown.perWorkload.handlerCalls} | ${Object.entries(callsByService(s.sundown))
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')} |`,
    );
  }
  lines.push('');
  lines.push('### Where Sundown spends a burst');
  lines.push('');
  lines.push(
    '| scenario | revoker renders | revoker batches | audit appends retried (cancelled / committed) | revocation-store bytes read / workload | emulator CPU | Sundown process CPU / workload | WorkloadEnded stage p50 | revoker stage p50 |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const s of r.scenarios) {
    const b = s.sundown;
    lines.push(
      `| ${s.scenario} | ${b.batches?.renders ?? '-'} | ${b.batches?.batches ?? '-'} | ${b.auditRetries?.cancelled ?? '-'} / ${b.auditRetries?.committed ?? '-'} | ${b.storeReads?.bytesPerWorkload ?? '-'} B | ${s1(b.cpu.emulator)} of ${s1(b.timing.settledMs)} | ${round(b.cpu.benchProcess / b.instances, 1)} ms | ${s1(b.timing.requestedMs?.p50 ?? 0)} | ${s1(b.timing.revokerStageMs?.p50 ?? 0)} |`,
    );
  }
  lines.push('');
  lines.push(
    "### Capacity per role (renderDenyPolicies into IAM's limits less 5% headroom: 9,728 inline, 10 x 5,836 managed)",
  );
  lines.push('');
  lines.push(
    '| profile | inline only | with managed overflow | chars / entry at the limit | chars one more entry adds | coarsening at the limit |',
  );
  lines.push('|---|---|---|---|---|---|');
  for (const row of r.capacity.rows) {
    lines.push(
      `| ${row.profile} | ${row.inlineOnly} | ${row.withOverflow} | ${row.charsPerEntry} | ${row.marginalChars} | ${coarseningLabel(row.coarsenedSecondsAtLimit)} |`,
    );
  }
  if (r.capacity.confirmations.length) {
    lines.push('');
    lines.push('Confirmed against the emulator (the revoker writes the policies):');
    lines.push('');
    lines.push(
      '| mode | predicted limit | sessions denied at the limit | credential at the limit | one more | written sizes | ok |',
    );
    lines.push('|---|---|---|---|---|---|---|');
    for (const c of r.capacity.confirmations) {
      lines.push(
        `| ${c.mode} | ${c.predicted} | ${c.deniedAtLimit} | ${c.statusAtLimit} | ${c.statusPastLimit}: ${c.reasonPastLimit.slice(0, 90)} | inline ${c.inlineChars} chars + ${c.managedPolicies} managed | ${c.ok ? 'yes' : '**no**'} |`,
      );
    }
  }
  lines.push('');
  lines.push('### Handler cost');
  lines.push('');
  lines.push(
    '| function | bundle (minified) | gzipped | cold import (median) | without source maps | of which the external AWS SDK packages | process start to ready |',
  );
  lines.push('|---|---|---|---|---|---|---|');
  for (const b of r.handlers.bundles) {
    lines.push(
      `| ${b.function} | ${round(b.bytes / 1e3, 0)} kB | ${round(b.gzipBytes / 1e3, 0)} kB | ${b.coldImportMs} ms | ${b.coldImportNoSourceMapsMs ?? '-'} ms | ${b.externalImportMs ?? '-'} ms (${b.externalPackages.length} packages) | ${b.processToReadyMs} ms |`,
    );
  }
  lines.push('');
  lines.push('| path (AWS calls excluded) | CPU per event | what one event does |');
  lines.push('|---|---|---|');
  for (const c of r.handlers.cpu)
    lines.push(`| ${c.path} | ${round(c.microsPerEvent / 1000, 3)} ms | ${c.work} |`);
  lines.push('');
  lines.push('### Targets');
  lines.push('');
  lines.push('| target | measured | met |');
  lines.push('|---|---|---|');
  for (const t of r.targets) lines.push(`| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}

/** How the bounds of never-reused names were rendered at the capacity limit. */
function coarseningLabel(coarsenedSeconds: number): string {
  if (coarsenedSeconds === UNBOUNDED_COARSENING) return 'no time bound';
  return coarsenedSeconds ? `${coarsenedSeconds} s buckets` : 'none (exact)';
}
