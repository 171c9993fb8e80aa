import path from 'node:path';
import { REPO_ROOT } from './config';

/**
 * Node flags every worker process runs with (npm scripts, npm start, docker-compose, the benchmark's stage
 * processes). V8 otherwise lets the old generation grow towards a quarter of the machine's memory before it
 * collects hard, so a worker draining a large backlog would sit at ~0.5 GB RSS with little of it live. The
 * bounded pages, chunks and fetches keep the live set far below this cap.
 */
export const WORKER_NODE_FLAGS = ['--max-old-space-size=256'] as const;

/** Where `npm run build` puts the compiled code. */
export const DIST_DIR = path.join(REPO_ROOT, 'dist');

/** The workflow code bundled at build time (scripts/bundle-workflows.ts); the pipeline worker loads it. */
export const WORKFLOW_BUNDLE = path.join(DIST_DIR, 'workflow-bundle.js');

/** The compiled entry point of a worker: what npm start, docker-compose and the tests that spawn workers run. */
export function workerEntry(name: 'pipeline' | 'stream'): string {
  return path.join(DIST_DIR, 'workers', `${name}.js`);
}

/** The argv (after the node binary) that starts a worker the way production does. */
export function workerArgs(name: 'pipeline' | 'stream'): string[] {
  return [...WORKER_NODE_FLAGS, workerEntry(name)];
}
