/**
 * The message codec alone, CPU only (no servers): the publisher's per-row encode and the consumer's per-message
 * decode + classify + column checks (prepareChunk), for each message version, on N generated events.
 * Minimum of several rounds, as CPU microseconds per message: steadier than stage throughput on a loaded host.
 *
 *   npx tsx bench/bench-codec.ts [--messages 300000] [--rounds 5]
 */
import type { KafkaMessage } from 'kafkajs';
import * as codec from '../lib/domain/message';
import type { LakeEventFields } from '../lib/domain/message';
import { mulberry32 } from '../lib/domain/random';
import { makeTimeUuid } from '../lib/domain/timeuuid';
import { prepareChunk } from '../lib/stream/chunk';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i >= 0 ? process.argv[i + 1] : fallback);
}

const TRACKS = ['click', 'click', 'conversion', 'qualified', 'alive', 'redirect', 'superpixel', null];

/** Lake rows like the bench dataset's: three days, 5,000 jobs, a third without a job. */
function rows(n: number): LakeEventFields[] {
  const r = mulberry32(7);
  return Array.from({ length: n }, (_, i) => {
    const job = r() < 0.35 ? null : 1 + Math.floor(r() * 5000);
    return {
      create_time: makeTimeUuid(Date.UTC(2022, 6, 8) + Math.floor(r() * 72 * 3_600_000), i % 10_000, i, '00163e5a0b01'),
      job_id: job,
      custom_track: TRACKS[Math.floor(r() * TRACKS.length)] ?? null,
      bid: job === null ? null : [0.5, 1, 1.25, 2][Math.floor(r() * 4)]!,
      campaign_id: job === null ? null : job % 100,
      group_id: job === null || r() < 0.4 ? null : job % 11,
      publisher_id: job === null ? null : 1 + Math.floor(r() * 5),
    };
  });
}

function cpuMicros(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

const BATCH = 'b7b56b0adc1c659b02982';

function main(): void {
  const n = arg('messages', 300_000);
  const rounds = arg('rounds', 5);
  const lake = rows(n);
  const encoders: Record<string, (f: LakeEventFields, seq: number) => string> = {
    v1: (f, seq) => codec.encodeMessage({ ...codec.toMessage(f), pub: `${BATCH}:${seq}` }),
  };
  // Only where the codec has v2 (so the same script measures an older checkout too).
  const v2 = (codec as { encodeEventV2?: (f: LakeEventFields, o: { batch: string; seq: number }) => string }).encodeEventV2;
  if (v2) encoders['v2'] = (f, seq) => v2(f, { batch: BATCH, seq });
  const out: Record<string, unknown> = { messages: n, rounds };
  for (const [name, encode] of Object.entries(encoders)) {
    let values: string[] = [];
    const enc: number[] = [];
    for (let k = 0; k < rounds; k++) enc.push(cpuMicros(() => (values = lake.map((f, i) => encode(f, i)))));
    const messages = values.map((v, i) => ({ key: null, value: Buffer.from(v), offset: String(i), headers: {}, timestamp: '0', attributes: 0 }) as unknown as KafkaMessage);
    const dec: number[] = [];
    for (let k = 0; k < rounds; k++) {
      dec.push(cpuMicros(() => {
        for (let i = 0; i < messages.length; i += 5000) prepareChunk(messages.slice(i, i + 5000));
      }));
    }
    out[name] = {
      valueBytes: Math.round(values.reduce((s, v) => s + Buffer.byteLength(v), 0) / n),
      encodeMicrosPerMessage: Number((Math.min(...enc) / n).toFixed(2)),
      prepareMicrosPerMessage: Number((Math.min(...dec) / n).toFixed(2)),
    };
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main();
