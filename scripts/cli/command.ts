/** A `trackflow` sub-command. `run` returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  /** Full help text printed by `trackflow <name> --help`. */
  help: string;
  /** Set when the command prints its own help (per sub-command); otherwise the dispatcher answers --help. */
  handlesHelp?: boolean;
  run(argv: string[]): Promise<number>;
}

export const EXIT = {
  ok: 0,
  /** The command ran and found a problem (a failed reconcile, a timeout). */
  failed: 1,
  /** Bad usage: unknown command or option, missing argument. */
  usage: 2,
  /** A service could not be reached. */
  unavailable: 3,
} as const;

export class UsageError extends Error {
  override name = 'UsageError';
}

export function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** Prints a JSON document or human text depending on `--json`. */
export function output(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(data, null, 2) + '\n' : human() + '\n');
}
