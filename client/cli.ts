import type { Client } from '@temporalio/client';
import { connectTemporal } from '../lib/clients/temporal';
import { config } from '../lib/config';
import { ServiceUnavailable } from '../lib/domain/errors';

/** A local server answers in milliseconds; a command should not hang for the SDK's default 10 s when none runs. */
const CONNECT_TIMEOUT = '4s';

/** Runs `fn` with a connected client and always closes the connection; an unreachable server is ServiceUnavailable. */
export async function withTemporal<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const cfg = config().temporal;
  let conn: Awaited<ReturnType<typeof connectTemporal>>;
  try {
    conn = await connectTemporal(cfg, { connectTimeout: CONNECT_TIMEOUT });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ServiceUnavailable(`cannot reach Temporal at ${cfg.address} (${why}); is the stack running? (trackflow stack status)`, { cause: err });
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
