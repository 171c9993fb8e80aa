import fs from 'node:fs';
import path from 'node:path';
import { runStep } from './proc';
import { stateDir } from './paths';

/** The stack's local CA and server certificate (SAN localhost and 127.0.0.1-3), made with openssl once. */
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

/**
 * The names the server certificate carries: localhost and the loopback addresses of every stack node (the
 * cluster's Cassandra nodes listen on 127.0.0.1-3), each checked by the clients against its IP SANs.
 */
const SERVER_SAN = 'DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3';

/** Signs a new server certificate (and its PEM keystore) with the stack CA, for SERVER_SAN; records the SAN. */
function issueServerCert(certs: StackCerts, caKey: string, days: string): void {
  const csr = path.join(certs.dir, 'server.csr');
  openssl('creating the server key (openssl)', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', certs.key, '-out', csr, '-subj', '/CN=localhost']);
  const ext = path.join(certs.dir, 'server.ext');
  fs.writeFileSync(ext, `subjectAltName=${SERVER_SAN}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  openssl('signing the server certificate (openssl)', ['x509', '-req', '-in', csr, '-CA', certs.ca, '-CAkey', caKey, '-CAcreateserial',
    '-out', certs.cert, '-days', days, '-extfile', ext]);
  fs.writeFileSync(certs.keystore, fs.readFileSync(certs.key, 'utf8') + fs.readFileSync(certs.cert, 'utf8'), { mode: 0o600 });
  fs.writeFileSync(path.join(certs.dir, 'server.san'), SERVER_SAN);
  for (const f of [csr, ext]) fs.rmSync(f, { force: true });
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
  const caKey = path.join(dir, 'ca-key.pem');
  const days = '825';
  const san = path.join(dir, 'server.san');
  const sanIsCurrent = fs.existsSync(san) && fs.readFileSync(san, 'utf8') === SERVER_SAN;
  if (fs.existsSync(certs.keystore) && fs.existsSync(certs.otherCa) && sanIsCurrent) return certs;
  if (fs.existsSync(certs.keystore) && fs.existsSync(certs.otherCa) && fs.existsSync(caKey)) {
    // A certificate from before the cluster nodes' addresses: re-issued under the same CA, so clients keep trusting it.
    issueServerCert(certs, caKey, days);
    return certs;
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  openssl('creating the stack CA (openssl)', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', certs.ca,
    '-days', days, '-subj', '/CN=trackflow local CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  issueServerCert(certs, caKey, days);
  const otherKey = path.join(dir, 'other-ca-key.pem');
  openssl('creating an unrelated CA for the refusal tests (openssl)', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', otherKey,
    '-out', certs.otherCa, '-days', days, '-subj', '/CN=not the trackflow CA']);
  fs.rmSync(otherKey, { force: true });
  return certs;
}
