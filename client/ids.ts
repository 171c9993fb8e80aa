import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

function shortHash(parts: string[]): string {
  return crypto.createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
}

function compactTimestamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * `ingest-<hash>` for explicit files: the hash covers each file's absolute path, size and mtime, so
 * re-submitting the same unchanged files while a run is in flight is refused as a duplicate instead of
 * racing it. A landing-directory scan has no stable content up front, so it is stamped with the time.
 */
export function ingestWorkflowId(input: { paths?: string[]; landingDir?: string }, now = new Date()): string {
  if (input.paths?.length) {
    const parts = [...input.paths]
      .map((p) => path.resolve(p))
      .sort()
      .map((p) => {
        const st = fs.statSync(p, { throwIfNoEntry: false });
        return st ? `${p}:${st.size}:${st.mtimeMs}` : `${p}:missing`;
      });
    if (input.landingDir) parts.push(`landing:${path.resolve(input.landingDir)}`);
    return `ingest-${shortHash(parts)}`;
  }
  return `ingest-${compactTimestamp(now)}`;
}

/** Workflow id prefix for scheduled runs; the schedule appends the nominal start time. */
export const SCHEDULED_INGEST_WORKFLOW_ID = 'ingest-scheduled';
/** Workflow id prefix of the daily verify's runs. */
export const SCHEDULED_VERIFY_WORKFLOW_ID = 'verify-scheduled';

/** One stream per topic and consumer group: the id makes a second concurrent stream impossible. */
export function streamWorkflowId(topic: string, group: string): string {
  return `stream-${topic}-${group}`;
}

export function jobsWorkflowId(file: string): string {
  return `jobs-${path.basename(file)}`;
}
