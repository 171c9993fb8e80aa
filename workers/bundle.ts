import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../lib/config';

const run = promisify(execFile);

/**
 * Bundles `workflowsPath` in a child process and returns the bundle's file. Bundling in the worker itself
 * (Worker.create with workflowsPath) kept about 120 MB of webpack's memory in the worker's RSS for its whole
 * life; the child gives it back when it exits. The caller removes the file once the worker has loaded it.
 */
export async function bundleWorkflowsInChild(workflowsPath: string): Promise<string> {
  // A private directory (0700, unpredictable name): nobody else can swap the code the worker is about to load.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-workflows-'));
  const out = path.join(dir, 'workflows.js');
  try {
    await run(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'bundle-workflows.ts'), out, workflowsPath], {
      cwd: REPO_ROOT,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    const e = err as Error & { stderr?: string };
    throw new Error(`bundling the workflows failed: ${e.stderr?.trim() || e.message}`);
  }
  return out;
}
