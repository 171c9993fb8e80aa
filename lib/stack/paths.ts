import path from 'node:path';
import { config } from '../config';
import { VERSIONS } from './versions';

/** Downloads are cached per user, outside the repository, so fresh clones reuse them. */
export function cacheDir(): string {
  return config().cacheDir;
}

/** Data, logs and pid files of the running stack: one directory. */
export function stateDir(): string {
  return config().stateDir;
}

export function temporalBinaryPath(): string {
  return path.join(cacheDir(), `temporal-${VERSIONS.temporalCli}`, 'temporal');
}
