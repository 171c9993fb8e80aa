import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { PLACEHOLDER_SECRET, REPO_ROOT } from './config';

/** Hex only: safe inside SQL, CQL, JAAS and Kafka's SCRAM syntax without any quoting. */
export function randomSecret(): string {
  return crypto.randomBytes(24).toString('hex');
}

const SECRET_LINE = /^(\s*)(TRACKFLOW_[A-Z0-9_]*PASSWORD)\s*=\s*(.*)$/;

/**
 * Every TRACKFLOW_*PASSWORD line of `text` that is empty or an example placeholder gets a fresh random secret;
 * secret keys of the example that `text` lacks are appended. Returns the new text and the keys it generated.
 */
export function fillSecrets(text: string, example: string): { text: string; generated: string[] } {
  const generated: string[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n').map((line) => {
    const m = SECRET_LINE.exec(line);
    if (!m) return line;
    const [, indent, key, value] = m as unknown as [string, string, string, string];
    seen.add(key);
    const bare = parseEnv(`${key}=${value}`)[key] ?? '';
    if (bare && !PLACEHOLDER_SECRET.test(bare)) return line;
    generated.push(key);
    return `${indent}${key}=${randomSecret()}`;
  });
  for (const line of example.split('\n')) {
    const m = SECRET_LINE.exec(line);
    if (!m || seen.has(m[2] as string)) continue;
    generated.push(m[2] as string);
    lines.push(`${m[2]}=${randomSecret()}`);
  }
  return { text: lines.join('\n'), generated };
}

/**
 * First run on a fresh clone: `.env` from the committed example, with random passwords instead of its empty
 * ones. An existing `.env` keeps its values but gets the secrets it lacks. Always mode 0600.
 */
export function ensureDotEnv(target = path.join(REPO_ROOT, '.env'), examplePath = path.join(REPO_ROOT, '.env.example')): void {
  const example = fs.readFileSync(examplePath, 'utf8');
  const existed = fs.existsSync(target);
  const { text, generated } = fillSecrets(existed ? fs.readFileSync(target, 'utf8') : example, example);
  if (!existed || generated.length) {
    // Written to a private temp file and renamed, so the secrets are never readable by others, even briefly.
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, target);
    process.stderr.write(
      `trackflow: ${existed ? 'added to' : 'created'} .env${existed ? '' : ' from .env.example'} with random ${generated.join(', ')}\n`,
    );
  }
  fs.chmodSync(target, 0o600);
}
