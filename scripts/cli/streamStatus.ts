import type { ConsumeCounts, ConsumerIdentity, PartitionProgress } from '../../activities/types';
import type { StreamStatus } from '../../workflows';
import { formatDuration } from './ingestProgress';

/** What the consume activity heartbeats while a lease runs (lib/stream/consumer.ts). */
export interface LeaseHeartbeat {
  partitions: PartitionProgress[];
  counts: Partial<ConsumeCounts>;
  lag: number;
  /** Set when the lease is one of several consumers. */
  consumer?: ConsumerIdentity;
  lastError?: string;
}

/** The heartbeats of the consumers in flight as one: their partitions side by side, counts and lag summed. */
export function mergeHeartbeats(beats: LeaseHeartbeat[]): LeaseHeartbeat | undefined {
  if (beats.length <= 1) return beats[0];
  const counts: Record<string, number> = {};
  for (const b of beats) for (const [k, v] of Object.entries(b.counts)) if (typeof v === 'number') counts[k] = (counts[k] ?? 0) + v;
  const partitions = beats.flatMap((b) => b.partitions).sort((x, y) => x.partition - y.partition);
  return { partitions, counts: counts as Partial<ConsumeCounts>, lag: beats.reduce((s, b) => s + b.lag, 0) };
}

/** One line per consumer slot: its partitions, offsets, lag, worker and last error, live from its heartbeat if in flight. */
export function renderConsumers(s: StreamStatus | undefined, beats: LeaseHeartbeat[]): string[] {
  if (!s?.consumerStatus?.length) return [];
  const lines = [`  consumers ${s.consumers ?? s.consumerStatus.length}:`];
  for (const c of s.consumerStatus) {
    const hb = beats.find((b) => b.consumer?.index === c.index && b.consumer.count === c.of);
    const offsets = (hb?.partitions ?? c.offsets).map((p) => `${p.partition}@${p.nextOffset}`).join(' ');
    const lag = hb ? hb.lag : c.lag;
    const worker = hb?.consumer?.worker ?? c.worker ?? '?';
    const err = hb?.lastError ?? c.lastError?.message;
    lines.push(`    consumer ${c.index}/${c.of} ${c.state}${hb ? ' (in flight)' : ''}: partitions [${(hb?.consumer?.partitions ?? c.partitions).join(',')}], ` +
      `offsets ${offsets || '-'}, lag ${lag ?? '?'}, worker ${worker}, leases ${c.leases}${err ? `, last error: ${err}` : ''}`);
  }
  return lines;
}

export interface LiveStatus {
  /** Totals of the finished leases plus what the in-flight lease has committed so far. */
  totals: Record<string, number>;
  partitions: PartitionProgress[];
  lag: number | undefined;
  /** Whether the partitions and lag come from the running lease (true) or the last finished one. */
  live: boolean;
  error?: { at: string; message: string; ageMs: number; current: boolean };
}

/** A lease that ended after the error, without an error of its own, means the error is resolved. */
function errorState(s: StreamStatus, now: number): LiveStatus['error'] {
  if (!s.lastError) return undefined;
  const at = Date.parse(s.lastError.at);
  const endedAt = s.lastLease ? Date.parse(s.lastLease.endedAt) : NaN;
  const current = !(endedAt > at) || s.lastLease?.endReason === 'cancelled';
  return { at: s.lastError.at, message: s.lastError.message, ageMs: Math.max(0, now - at), current };
}

export function liveStatus(s: StreamStatus, hb: LeaseHeartbeat | undefined, now = Date.now()): LiveStatus {
  const totals: Record<string, number> = { ...(s.totals as unknown as Record<string, number>) };
  for (const [k, v] of Object.entries(hb?.counts ?? {})) if (typeof v === 'number') totals[k] = (totals[k] ?? 0) + v;
  const partitions = hb?.partitions.length ? hb.partitions : (s.lastLease?.partitions ?? []);
  return { totals, partitions, lag: hb ? hb.lag : s.lag, live: Boolean(hb), error: errorState(s, now) };
}

export function renderStatus(workflowId: string, runStatus: string, s: StreamStatus | undefined, hb: LeaseHeartbeat | undefined, now = Date.now()): string {
  if (!s) return `${workflowId}: ${runStatus}`;
  const live = liveStatus(s, hb, now);
  // A cancelled or terminated run still answers the query with the state it had when it stopped.
  const state = runStatus === 'RUNNING' || s.state === 'drained' ? s.state : runStatus.toLowerCase();
  const lines = [
    `${workflowId}: ${state} (workflow ${runStatus}), since ${s.since}`,
    `  leases ${s.leases} (run ${s.runs}, ${s.leasesThisRun} in this run)${live.live ? ', one in flight' : ''}`,
    `  totals${live.live ? ' (live, including the lease in flight)' : ''}: ${Object.entries(live.totals)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ];
  if (s.lastLease) lines.push(`  last lease ended ${s.lastLease.endedAt} (${s.lastLease.endReason})`);
  lines.push(`  lag ${live.lag ?? '?'}${live.live ? ' (now)' : ' (at the end of the last lease)'}`);
  for (const p of live.partitions) lines.push(`    partition ${p.partition}: next offset ${p.nextOffset}, lag ${p.lag}`);
  if (live.error) {
    const e = live.error;
    lines.push(`  last error ${e.at} (${formatDuration(e.ageMs / 1000)} ago, ${e.current ? 'CURRENT' : `resolved: a lease ended cleanly at ${s.lastLease?.endedAt}`}): ${e.message}`);
  }
  return lines.join('\n');
}
