import fs from 'node:fs';
import path from 'node:path';
import { FileNotFound, PathNotRegular, PathOutsideInputDirs, SymlinkRefused } from '../domain/errors';

/**
 * Confines a path an activity is asked to read to the configured input directories (the landing area, its
 * jobs directory, TRACKFLOW_INPUT_DIRS). Workflow inputs come from whoever can start a workflow, so a path is
 * refused, before anything is opened, when it
 *  - lies outside every input directory once resolved (`..` included), or resolves outside through a link;
 *  - is, or passes through, a symbolic link below the input directory;
 *  - does not exist (the message says which rule, never any content).
 * Returns the real path to read. Each refusal is a non-retryable failure naming the path and the rule.
 */
export function confineInputPath(input: string, roots: readonly string[], kind: 'file' | 'directory' = 'file'): string {
  const abs = path.resolve(input);
  const root = roots.map((r) => path.resolve(r)).find((r) => isInside(abs, r));
  if (!root) {
    throw new PathOutsideInputDirs(
      `refused ${kind} ${abs}: outside the input directories (${roots.join(', ')})`,
    );
  }
  refuseLinksBelow(root, abs, kind);
  const real = fs.realpathSync(abs);
  const realRoot = fs.realpathSync(root);
  if (!isInside(real, realRoot)) {
    throw new PathOutsideInputDirs(`refused ${kind} ${abs}: resolves to ${real}, outside ${realRoot}`);
  }
  const st = fs.statSync(real);
  if (kind === 'file' ? !st.isFile() : !st.isDirectory()) {
    throw new PathNotRegular(`refused ${kind} ${abs}: not a regular ${kind}`);
  }
  return real;
}

function isInside(candidate: string, root: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Every component from the root down is lstat'ed: a link anywhere below the root is refused. */
function refuseLinksBelow(root: string, abs: string, kind: string): void {
  let current = root;
  for (const part of path.relative(root, abs).split(path.sep).filter(Boolean)) {
    current = path.join(current, part);
    const st = fs.lstatSync(current, { throwIfNoEntry: false });
    if (!st) throw new FileNotFound(`refused ${kind} ${abs}: ${current} does not exist`);
    if (st.isSymbolicLink()) {
      throw new SymlinkRefused(`refused ${kind} ${abs}: ${current} is a symbolic link`);
    }
  }
}
