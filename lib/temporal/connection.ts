import fs from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../config';

/** The worker-side (Rust core) connection; clients use connectTemporal from lib/clients/temporal. */
export async function connectWorker(cfg: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({
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
}
