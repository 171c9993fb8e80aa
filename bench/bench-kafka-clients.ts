/**
 * kafkajs against @confluentinc/kafka-javascript on the same messages and topic layout.
 *
 *   npx tsx bench/bench-kafka-clients.ts [--messages 500000] [--send-size 5000] [--confluent-dir DIR]
 *
 * DIR holds a node_modules with @confluentinc/kafka-javascript built in it (bench/README.md). Without it only
 * kafkajs is measured.
 */
import { compareKafkaClients } from './kafkaClients';
import { confluentDir } from '../lib/config';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function positive(name: string, fallback: number): number {
  const v = Number(arg(name) ?? fallback);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}

async function main(): Promise<void> {
  const result = await compareKafkaClients({
    messages: positive('messages', 500_000),
    sendSize: positive('send-size', 5000),
    moduleDir: arg('confluent-dir') ?? confluentDir() ?? null,
    log,
  });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
