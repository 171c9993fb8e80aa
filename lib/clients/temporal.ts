import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import type { TemporalConfig } from '../config';

/** TLS for both the client and the worker connection (mTLS when a client certificate is configured). */
export function temporalTls(cfg: TemporalConfig): TLSConfig | undefined {
  if (!cfg.tls.enabled) return undefined;
  // The Temporal SDK cannot skip verification; saying so beats silently verifying anyway.
  if (!cfg.tls.rejectUnauthorized) throw new Error('TRACKFLOW_TEMPORAL_TLS_REJECT_UNAUTHORIZED=false is not supported: give TRACKFLOW_TEMPORAL_TLS_CA_FILE instead');
  return {
    serverNameOverride: cfg.tls.servername,
    serverRootCACertificate: cfg.tls.caFile ? fs.readFileSync(cfg.tls.caFile) : undefined,
    clientCertPair:
      cfg.tls.certFile && cfg.tls.keyFile
        ? { crt: fs.readFileSync(cfg.tls.certFile), key: fs.readFileSync(cfg.tls.keyFile) }
        : undefined,
  };
}

/** `connectTimeout` (default 10 s): a command line gives up sooner on a server that is not there. */
export async function connectTemporal(cfg: TemporalConfig, opts: { connectTimeout?: string } = {}): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: cfg.address, tls: temporalTls(cfg), connectTimeout: opts.connectTimeout as Duration | undefined });
  return { client: new Client({ connection, namespace: cfg.namespace }), connection };
}
