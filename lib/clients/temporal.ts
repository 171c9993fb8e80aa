import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { TemporalConfig } from '../config';

export async function connectTemporal(cfg: TemporalConfig): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({
    address: cfg.address,
    tls: cfg.tls.enabled
      ? {
          serverRootCACertificate: cfg.tls.caFile ? fs.readFileSync(cfg.tls.caFile) : undefined,
          clientCertPair:
            cfg.tls.certFile && cfg.tls.keyFile
              ? { crt: fs.readFileSync(cfg.tls.certFile), key: fs.readFileSync(cfg.tls.keyFile) }
              : undefined,
        }
      : undefined,
  });
  return { client: new Client({ connection, namespace: cfg.namespace }), connection };
}
