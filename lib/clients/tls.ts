import fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { TlsConfig } from '../config';

const warned = new Set<string>();

/** Turning verification off is allowed only outside production (config refuses it there), and never quietly. */
function warnUnverified(service: string): void {
  if (warned.has(service)) return;
  warned.add(service);
  process.stderr.write(
    `\n!!! WARNING: TLS certificate verification is OFF for ${service} (TRACKFLOW_${service.toUpperCase()}_TLS_REJECT_UNAUTHORIZED=false).\n` +
      `!!! Anyone on the network path can impersonate the server and read its credentials. Never use this in production.\n\n`,
  );
}

/** Node TLS options for any client; undefined when TLS is off so clients keep their plaintext defaults. */
export function tlsOptions(tls: TlsConfig, service = 'service', host?: string): ConnectionOptions | undefined {
  if (!tls.enabled) return undefined;
  if (!tls.rejectUnauthorized) warnUnverified(service);
  const servername = tls.servername ?? host;
  return {
    ca: tls.caFile ? fs.readFileSync(tls.caFile) : undefined,
    cert: tls.certFile ? fs.readFileSync(tls.certFile) : undefined,
    key: tls.keyFile ? fs.readFileSync(tls.keyFile) : undefined,
    rejectUnauthorized: tls.rejectUnauthorized,
    // SNI and the name checked against the certificate; an IP literal is checked against its IP SANs instead.
    ...(servername && !/^[\d.]+$|:/.test(servername) ? { servername } : {}),
  };
}

/** The host part of "host:port". */
export function hostOf(hostPort: string | undefined): string | undefined {
  return hostPort?.replace(/:\d+$/, '');
}
