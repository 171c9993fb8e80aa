import fs from 'node:fs';
import path from 'node:path';
import { runStep } from './proc';
import { stateDir } from './paths';

/** The stack's local CA and server certificate (SAN localhost and 127.0.0.1), made with openssl once. */
export interface StackCerts {
  dir: string;
  ca: string;
  cert: string;
  key: string;
  /** key + certificate in one PEM file, as Kafka's and Cassandra's PEM keystores want it. */
  keystore: string;
  /** A second, unrelated CA: clients given it must refuse the stack's servers. */
  otherCa: string;
}

function openssl(description: string, args: string[]): void {
  runStep(description, 'openssl', args);
}

export function stackCerts(): StackCerts {
  const dir = path.join(stateDir(), 'tls');
  const certs: StackCerts = {
    dir,
    ca: path.join(dir, 'ca.pem'),
    cert: path.join(dir, 'server.pem'),
    key: path.join(dir, 'server-key.pem'),
    keystore: path.join(dir, 'server-keystore.pem'),
    otherCa: path.join(dir, 'other-ca.pem'),
  };
  if (fs.existsSync(certs.keystore) && fs.existsSync(certs.otherCa)) return certs;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKey = path.join(dir, 'ca-key.pem');
  const days = '825';
  openssl('creating the stack CA (openssl)', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', certs.ca,
    '-days', days, '-subj', '/CN=trackflow local CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const csr = path.join(dir, 'server.csr');
  openssl('creating the server key (openssl)', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', certs.key, '-out', csr, '-subj', '/CN=localhost']);
  const ext = path.join(dir, 'server.ext');
  fs.writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  openssl('signing the server certificate (openssl)', ['x509', '-req', '-in', csr, '-CA', certs.ca, '-CAkey', caKey, '-CAcreateserial',
    '-out', certs.cert, '-days', days, '-extfile', ext]);
  fs.writeFileSync(certs.keystore, fs.readFileSync(certs.key, 'utf8') + fs.readFileSync(certs.cert, 'utf8'), { mode: 0o600 });
  const otherKey = path.join(dir, 'other-ca-key.pem');
  openssl('creating an unrelated CA for the refusal tests (openssl)', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', otherKey,
    '-out', certs.otherCa, '-days', days, '-subj', '/CN=not the trackflow CA']);
  for (const f of [csr, ext, otherKey]) fs.rmSync(f, { force: true });
  return certs;
}
