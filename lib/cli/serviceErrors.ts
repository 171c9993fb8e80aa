import { isUnavailable, missingSchema } from '../reconcile/lag';
import { EXIT } from './command';

/**
 * Turns the two setup problems every reading command can hit into a plain message and an exit code:
 * a schema that was never migrated (1) and a server that cannot be reached (3). Anything else is a bug
 * and is rethrown with its stack.
 */
export function serviceErrorExit(command: string, err: unknown): number {
  const schema = missingSchema(err);
  if (schema) {
    process.stderr.write(`trackflow ${command}: schema missing: ${schema}\n`);
    return EXIT.failed;
  }
  if (isUnavailable(err)) {
    process.stderr.write(`trackflow ${command}: service unavailable: ${(err as Error).message}\n`);
    return EXIT.unavailable;
  }
  throw err;
}
