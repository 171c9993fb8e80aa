import fs from 'node:fs';
import path from 'node:path';
import type { Client } from 'cassandra-driver';
import type { DiscoverFilesResult, DiscoveredFile } from '../../activities/types';
import { hashFile } from './reader';

export const LANDING_FILE_RE = /\.csv(\.gz)?$/i;

/** Lists tracking exports in a landing directory and splits them by whether their content was ingested. */
export async function discoverFilesCore(
  cassandra: Client,
  keyspace: string,
  landingDir: string,
  keepAlive?: () => void,
): Promise<DiscoverFilesResult> {
  const dir = path.resolve(landingDir);
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { newFiles: [], alreadyIngested: [] };
    throw err;
  }
  const files: DiscoveredFile[] = [];
  for (const name of names.filter((n) => LANDING_FILE_RE.test(n)).sort()) {
    const full = path.join(dir, name);
    const st = await fs.promises.stat(full).catch(() => undefined);
    if (!st?.isFile()) continue;
    const { hash, size } = await hashFile(full, keepAlive);
    files.push({ path: full, contentHash: hash, sizeBytes: size });
    keepAlive?.();
  }
  const newFiles: DiscoveredFile[] = [];
  const alreadyIngested: DiscoveredFile[] = [];
  for (const f of files) {
    const rs = await cassandra.execute(`SELECT status FROM ${keyspace}.file_registry WHERE content_hash = ?`, [f.contentHash], {
      prepare: true,
    });
    if (rs.rows[0]?.['status'] === 'ingested') alreadyIngested.push(f);
    else newFiles.push(f);
  }
  return { newFiles, alreadyIngested };
}
