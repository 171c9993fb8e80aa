/**
 * `npm run check:argv [-- command...]`: runs a command (default `npm start -- --once`) and, while it runs,
 * reads /proc/<pid>/cmdline of every process on the machine every 100 ms. Any process whose arguments
 * contain one of trackflow's secrets (the .env passwords and the stack's own secrets) fails the check; the
 * report names the process and the key, never the value.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childEnv, config, REPO_ROOT } from '../lib/config';

function secrets(): Map<string, string> {
  const cfg = config();
  const found = new Map<string, string>();
  for (const [key, value] of Object.entries(childEnv())) {
    if (key.startsWith('TRACKFLOW_') && key.endsWith('PASSWORD') && value && value.length >= 8) found.set(value, key);
  }
  const dir = path.join(cfg.stateDir, 'secrets');
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) found.set(fs.readFileSync(path.join(dir, f), 'utf8').trim(), `stack secret ${f}`);
  return found;
}

function scan(known: Map<string, string>, hits: Map<string, string>, seen: Set<string>): void {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv: string;
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    if (!argv) continue;
    seen.add(`${pid} ${argv.slice(0, 60)}`);
    for (const [value, key] of known) if (argv.includes(value)) hits.set(`${pid} ${argv.split(' ')[0]}`, key);
  }
}

async function main(): Promise<number> {
  const known = secrets();
  if (!known.size) throw new Error('no secrets found in the environment or the state directory');
  const command = process.argv.slice(2).length ? process.argv.slice(2) : ['npm', 'start', '--', '--once'];
  const hits = new Map<string, string>();
  const seen = new Set<string>();
  const child = spawn(command[0] as string, command.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const timer = setInterval(() => scan(known, hits, seen), 100);
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  clearInterval(timer);
  scan(known, hits, seen);
  process.stdout.write(`\ncheck:argv: ${known.size} secrets, ${seen.size} distinct processes seen while \`${command.join(' ')}\` ran (exit ${code})\n`);
  for (const [proc, key] of hits) process.stdout.write(`  SECRET IN ARGV: ${proc} has ${key}\n`);
  if (hits.size) return 1;
  process.stdout.write('check:argv: no process had a secret in its command line\n');
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`check:argv: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
