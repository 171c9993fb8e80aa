import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './config';

/** First run on a fresh clone: start from the committed example so the local stack and the app agree. */
export function ensureDotEnv(): void {
  const target = path.join(REPO_ROOT, '.env');
  if (fs.existsSync(target)) return;
  fs.copyFileSync(path.join(REPO_ROOT, '.env.example'), target);
  process.stderr.write('trackflow: created .env from .env.example (edit it to change ports and credentials)\n');
}
