import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { Client } from '@temporalio/client';
import { connectTemporal } from '../lib/clients/temporal';
import { config } from '../lib/config';
import { EXIT, UsageError } from '../scripts/cli/command';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict option parsing: an unknown flag is a usage error (exit 2), not silently ignored. */
export function parseFlags<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

export class ServiceUnavailable extends Error {
  override name = 'ServiceUnavailable';
}

/** Runs `fn` with a connected client and always closes the connection; an unreachable server is exit 3. */
export async function withTemporal(fn: (client: Client) => Promise<number>): Promise<number> {
  const cfg = config().temporal;
  let conn: Awaited<ReturnType<typeof connectTemporal>>;
  try {
    conn = await connectTemporal(cfg);
  } catch (err) {
    process.stderr.write(
      `trackflow: cannot reach Temporal at ${cfg.address} (${err instanceof Error ? err.message : String(err)}); is the stack running? (trackflow stack status)\n`,
    );
    return EXIT.unavailable;
  }
  try {
    return await fn(conn.client);
  } finally {
    await conn.connection.close();
  }
}

export function uiLink(workflowId: string): string {
  const cfg = config().temporal;
  const host = cfg.address.split(':')[0] || '127.0.0.1';
  return `http://${host === '127.0.0.1' ? 'localhost' : host}:${cfg.uiPort}/namespaces/${cfg.namespace}/workflows/${encodeURIComponent(workflowId)}`;
}
