import fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { TlsConfig } from '../config';

/** Node TLS options for any client; undefined when TLS is off so clients keep their plaintext defaults. */
export function tlsOptions(tls: TlsConfig): ConnectionOptions | undefined {
  if (!tls.enabled) return undefined;
  return {
    ca: tls.caFile ? fs.readFileSync(tls.caFile) : undefined,
    cert: tls.certFile ? fs.readFileSync(tls.certFile) : undefined,
    key: tls.keyFile ? fs.readFileSync(tls.keyFile) : undefined,
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}
