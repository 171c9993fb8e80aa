import type { HostileIngestResult } from './hostileIngest';
import type { LatencyResult } from './latency';
import type { OrchestratedResult } from './orchestrated';
import type { PipelineResult, StageResult } from './pipeline';
import { cpuTable } from './processCpu';
import type { ConsumerPerfResult, NodeInsertBaseline, ProducerPerfResult, StressResult } from './platform';

export interface Limits {
  producerPerformance?: ProducerPerfResult | { error: string };
  consumerPerformance?: ConsumerPerfResult | { error: string };
  cassandra?: StressResult | NodeInsertBaseline | { error: string };
  cassandraStressError?: string;
}

export interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean | null;
}

/** Peak RSS of the larger run within this factor of the smaller run's counts as flat. */
export const FLAT_RATIO = 1.25;

const fmt = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));

const ok = <T extends object>(x: T | { error: string } | undefined): T | undefined => (x && !('error' in x) ? (x as T) : undefined);

export function cassandraLimit(l: Limits): number | undefined {
  return ok(l.cassandra)?.rowsPerSecond;
}

export function ratio(a: number, b: number | undefined): number | undefined {
  return b && Number.isFinite(b) && b > 0 ? Number((a / b).toFixed(3)) : undefined;
}

/** The two pipeline sizes of the flatness check, smaller first. */
export function flatnessPair(main: PipelineResult, other: PipelineResult | undefined): [PipelineResult, PipelineResult] | undefined {
  if (!other) return undefined;
  return other.events < main.events ? [other, main] : [main, other];
}

export function checkTargets(
  main: PipelineResult,
  other: PipelineResult | undefined,
  latency: LatencyResult | undefined,
  limits: Limits,
  e2e?: OrchestratedResult,
): TargetCheck[] {
  const cLimit = cassandraLimit(limits);
  const cRatio = ratio(main.ingest.perSecond, cLimit);
  const cp = ok(limits.consumerPerformance) ?? ok(main.consumerPerformance);
  const kRatio = ratio(main.consume.perSecond, cp?.messagesPerSecond);
  // The stage processes run the workers' code with the workers' flags; the real workers are measured too.
  const rssPeak = Math.max(
    main.endToEnd.rssPeakMb,
    other?.endToEnd.rssPeakMb ?? 0,
    e2e?.workers.pipeline.rssPeakMb ?? 0,
    e2e?.workers.stream.rssPeakMb ?? 0,
  );
  const pair = flatnessPair(main, other);
  const flat = pair ? ratio(pair[1].endToEnd.rssPeakMb, pair[0].endToEnd.rssPeakMb) : undefined;
  const pct = (x: number | undefined): string => (x === undefined ? 'n/a' : `${(x * 100).toFixed(0)}%`);
  const isStress = ok(limits.cassandra) && 'opsPerSecond' in (limits.cassandra as object);
  return [
    { target: 'CSV->Cassandra >= 15,000 rows/s', measured: `${main.ingest.perSecond} rows/s`, pass: main.ingest.perSecond >= 15_000 },
    {
      target: `CSV->Cassandra >= 50% of ${isStress ? 'cassandra-stress' : 'baseline (NOT cassandra-stress)'}`,
      measured: pct(cRatio),
      pass: cRatio === undefined ? null : cRatio >= 0.5,
    },
    { target: 'Cassandra->Kafka >= 40,000 events/s', measured: `${main.publish.perSecond} events/s`, pass: main.publish.perSecond >= 40_000 },
    { target: 'Kafka->MySQL >= 40,000 events/s', measured: `${main.consume.perSecond} events/s`, pass: main.consume.perSecond >= 40_000 },
    { target: 'Kafka->MySQL >= 50% of ConsumerPerformance', measured: pct(kRatio), pass: kRatio === undefined ? null : kRatio >= 0.5 },
    {
      target: `p99 publish->warehouse <= 2 s at ${latency?.targetRate ?? '?'}/s`,
      measured: latency ? `${latency.p99Ms} ms (${latency.notCommitted} not committed)` : 'n/a',
      pass: latency ? latency.p99Ms <= 2000 && latency.notCommitted === 0 : null,
    },
    { target: 'worker RSS < 300 MB', measured: `${rssPeak} MB`, pass: rssPeak < 300 },
    {
      target: `RSS flat in N (${pair ? `${fmt(pair[0].events)} -> ${fmt(pair[1].events)}` : 'two sizes'}, ratio <= ${FLAT_RATIO})`,
      measured: pair ? `${pair[0].endToEnd.rssPeakMb} -> ${pair[1].endToEnd.rssPeakMb} MB (x${flat})` : 'n/a',
      pass: flat === undefined ? null : flat <= FLAT_RATIO,
    },
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export function summaryTable(
  main: PipelineResult,
  other: PipelineResult | undefined,
  latency: LatencyResult | undefined,
  limits: Limits,
  checks: TargetCheck[],
  e2e?: OrchestratedResult,
): string {
  const pp = ok(limits.producerPerformance);
  const cp = ok(limits.consumerPerformance) ?? ok(main.consumerPerformance);
  const cLimit = cassandraLimit(limits);
  const cName = ok(limits.cassandra) && 'opsPerSecond' in (limits.cassandra as object) ? 'cassandra-stress write' : 'Node batch baseline (NOT cassandra-stress)';
  const r = (a: number, b: number | undefined): string => {
    const x = ratio(a, b);
    return x === undefined ? 'n/a' : `${(x * 100).toFixed(0)}%`;
  };
  const stage = (name: string, s: StageResult, limitName: string, limit: number | undefined): string[] => [
    name,
    fmt(s.items),
    s.usage.seconds.toFixed(1),
    fmt(s.perSecond),
    `${limitName}: ${fmt(limit)}`,
    r(s.perSecond, limit),
    s.usage.cpuSeconds.toFixed(1),
    String(s.usage.rssPeakMb),
  ];
  const rows = [
    ['stage (N=' + fmt(main.events) + ')', 'items', 's', 'items/s', 'platform limit /s', 'ratio', 'CPU s', 'peak RSS MB'],
    stage('CSV -> Cassandra', main.ingest, cName, cLimit),
    stage('Cassandra -> Kafka', main.publish, 'ProducerPerformance', pp?.recordsPerSecond),
    stage('Kafka -> MySQL', main.consume, 'ConsumerPerformance', cp?.messagesPerSecond),
    [
      'end to end (sequential)',
      fmt(main.consume.items),
      main.endToEnd.seconds.toFixed(1),
      fmt(main.endToEnd.eventsPerSecond),
      '',
      '',
      main.endToEnd.cpuSeconds.toFixed(1),
      String(main.endToEnd.rssPeakMb),
    ],
  ];
  if (e2e) {
    const w = e2e.workers;
    rows.push([
      'end to end, Temporal workers',
      fmt(e2e.consumed),
      e2e.seconds.toFixed(1),
      fmt(e2e.eventsPerSecond),
      '',
      '',
      (w.pipeline.cpuSeconds + w.stream.cpuSeconds).toFixed(1),
      String(Math.max(w.pipeline.rssPeakMb, w.stream.rssPeakMb)),
    ]);
  }
  const out = [table(rows)];
  const cpu = cpuTable([
    { name: 'CSV -> Cassandra', cpu: main.ingest.cpu },
    { name: 'Cassandra -> Kafka', cpu: main.publish.cpu },
    { name: 'Kafka -> MySQL', cpu: main.consume.cpu },
    { name: 'end to end, Temporal workers', cpu: e2e?.cpu },
  ]);
  if (cpu) out.push(cpu);
  if (e2e) {
    const w = e2e.workers;
    out.push(
      `workers (file dropped -> warehouse caught up, stages overlapped; ingestAndPublish done at ${e2e.ingestAndPublishSeconds} s): ` +
        `pipeline worker CPU ${w.pipeline.cpuSeconds} s, peak RSS ${w.pipeline.rssPeakMb} MB (end ${w.pipeline.rssEndMb}); ` +
        `stream worker CPU ${w.stream.cpuSeconds} s, peak RSS ${w.stream.rssPeakMb} MB (end ${w.stream.rssEndMb})`,
    );
  }
  const raw = ok(main.kafkajsRawConsume);
  if (raw) {
    out.push(
      `Kafka client ceiling: kafkajs alone (fetch + JSON.parse, same topic) ${fmt(raw.perSecond)}/s = ${r(raw.perSecond, cp?.messagesPerSecond)} of ConsumerPerformance; ` +
        `trackflow's consumer = ${r(main.consume.perSecond, raw.perSecond)} of kafkajs alone`,
    );
  }
  const pair = flatnessPair(main, other);
  if (pair) {
    const [lo, hi] = pair;
    const per = (['ingest', 'publish', 'consume'] as const)
      .map((k) => `${k} ${lo[k].usage.rssPeakMb} -> ${hi[k].usage.rssPeakMb} MB (x${ratio(hi[k].usage.rssPeakMb, lo[k].usage.rssPeakMb)})`)
      .join(', ');
    out.push(
      `flatness: N=${fmt(lo.events)} peak RSS ${lo.endToEnd.rssPeakMb} MB, N=${fmt(hi.events)} peak RSS ${hi.endToEnd.rssPeakMb} MB, ratio ${ratio(hi.endToEnd.rssPeakMb, lo.endToEnd.rssPeakMb)}; per stage: ${per}`,
    );
    const rate = (r: PipelineResult): string => `ingest ${fmt(r.ingest.perSecond)}/s, publish ${fmt(r.publish.perSecond)}/s, consume ${fmt(r.consume.perSecond)}/s`;
    out.push(`throughput at N=${fmt(other!.events)}: ${rate(other!)}`);
  }
  if (latency) {
    out.push(
      `latency at ${fmt(latency.achievedRate)}/s for ${latency.durationSeconds} s (${fmt(latency.measured)} messages, poll ${latency.pollMs} ms): ` +
        `p50 ${latency.p50Ms} ms, p95 ${latency.p95Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms; ` +
        `CPU ${latency.usage.cpuSeconds.toFixed(1)} s, peak RSS ${latency.usage.rssPeakMb} MB`,
    );
  }
  out.push(
    `message: avg value ${main.message.avgValueBytes} B, key ${main.message.avgKeyBytes} B, headers ${main.message.avgHeaderBytes} B (record ${main.message.avgRecordBytes} B)`,
  );
  out.push('');
  out.push(table([['target', 'measured', 'result'], ...checks.map((c) => [c.target, c.measured, c.pass === null ? 'n/a' : c.pass ? 'PASS' : 'MISS'])]));
  return out.join('\n');
}

/** Hostile ingest throughput must stay within this share of the clean export's (issue 13's acceptance). */
export const HOSTILE_MIN_RATIO = 0.9;
export const WORKER_RSS_LIMIT_MB = 300;

/** The hostile-ingest targets: throughput (same bytes, so time) within 10% of clean, and the child's RSS. */
export function checkHostileTargets(h: HostileIngestResult): TargetCheck[] {
  const size = `${Math.round(h.bytes / 1e6).toLocaleString('en-US')} MB`;
  const rss = Math.max(h.clean.process.rssPeakMb, h.hostile.process.rssPeakMb);
  return [
    {
      target: `hostile ingest (${size}) >= ${HOSTILE_MIN_RATIO * 100}% of clean MB/s`,
      measured: `${h.hostile.mbPerSecond} / ${h.clean.mbPerSecond} MB/s = ${(h.throughputRatio * 100).toFixed(1)}%`,
      pass: h.throughputRatio >= HOSTILE_MIN_RATIO,
    },
    {
      target: `ingest RSS < ${WORKER_RSS_LIMIT_MB} MB (clean and hostile ${size})`,
      measured: `${h.clean.process.rssPeakMb} / ${h.hostile.process.rssPeakMb} MB`,
      pass: rss < WORKER_RSS_LIMIT_MB,
    },
  ];
}

export function hostileSummary(h: HostileIngestResult): string {
  const row = (name: string, r: HostileIngestResult['clean']): string[] => [
    name,
    fmt(r.rowsRead),
    fmt(r.rejected),
    r.seconds.toFixed(1),
    fmt(r.rowsPerSecond),
    r.mbPerSecond.toFixed(2),
    r.cpuSeconds.toFixed(1),
    String(r.process.rssPeakMb),
  ];
  const kinds = Object.entries(h.injected).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    table([
      [`ingest, ${Math.round(h.bytes / 1e6).toLocaleString('en-US')} MB export`, 'records', 'rejected', 's', 'rows/s', 'MB/s', 'CPU s', 'peak RSS MB'],
      row('clean', h.clean),
      row('hostile', h.hostile),
    ]),
    `hostile / clean: ${(h.throughputRatio * 100).toFixed(1)}% of MB/s, ${(h.rowsRatio * 100).toFixed(1)}% of rows/s; ` +
      `injected ${kinds} (${(h.injectedBytes / 1e6).toFixed(1)} MB, ${((100 * h.injectedBytes) / h.bytes).toFixed(1)}% of the bytes)`,
    ...(h.runs.length > 2 ? [`runs in order: ${h.runs.map((r) => `${r.export} ${r.seconds.toFixed(1)} s`).join(', ')}`] : []),
  ].join('\n');
}
