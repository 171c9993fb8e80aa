import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../config';
import { temporalTls } from '../clients/temporal';

/** The worker-side (Rust core) connection; clients use connectTemporal from lib/clients/temporal. */
export async function connectWorker(cfg: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: cfg.address, tls: temporalTls(cfg) });
}
