/**
 * Bundles the workflow code (webpack, through the Temporal SDK) into one file, once, at build time:
 *
 *   node dist/scripts/bundle-workflows.js OUT_FILE [WORKFLOWS_PATH]
 *
 * `npm run build` writes dist/workflow-bundle.js from the compiled workflows; the pipeline worker loads it
 * with `workflowBundle: { codePath }`, so no worker runs webpack or keeps its memory.
 */
import fs from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main(): Promise<void> {
  const [out, workflowsPath = require.resolve('../workflows')] = process.argv.slice(2);
  if (!out) throw new Error('usage: bundle-workflows.js OUT_FILE [WORKFLOWS_PATH]');
  const { code } = await bundleWorkflowCode({ workflowsPath });
  fs.writeFileSync(out, code);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
