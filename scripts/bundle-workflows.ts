/**
 * Bundles the workflow code (webpack, through the Temporal SDK) into one file.
 *
 *   npx tsx scripts/bundle-workflows.ts OUT_FILE [WORKFLOWS_PATH]
 *
 * The pipeline worker runs this in a short-lived child process at startup, so webpack's memory is returned
 * to the system instead of staying in the worker's heap for its whole life.
 */
import fs from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main(): Promise<void> {
  const [out, workflowsPath = require.resolve('../workflows')] = process.argv.slice(2);
  if (!out) throw new Error('usage: bundle-workflows.ts OUT_FILE [WORKFLOWS_PATH]');
  const { code } = await bundleWorkflowCode({ workflowsPath });
  fs.writeFileSync(out, code);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
