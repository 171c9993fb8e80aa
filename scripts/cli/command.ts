import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { EXIT, UsageError } from '../../lib/domain/errors';
import { describeFailure, failureDetail } from '../../lib/failure';
import { setVerbose, verbose } from '../../lib/config';

export { EXIT, UsageError };

/** Set by `--verbose`: failures add their stack, and client libraries may log. */
export { verbose };

/** Prints a JSON document or human text depending on `--json`. */
export function output(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(data, null, 2) + '\n' : human() + '\n');
}

// Option value parsers: commander reports a value they refuse as a usage error naming the option.
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number, 0 or more');
  return n;
}

export function intRange(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return n;
  };
}

export function oneOf<T extends string>(...allowed: T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${allowed.join(', ')}`);
    return value as T;
  };
}

let exitCode: number = EXIT.ok;

/** Wraps an action so the exit code it returns becomes the process's (commander ignores return values). */
export function act<A extends unknown[]>(fn: (...args: A) => Promise<number> | number): (...args: A) => Promise<void> {
  return async (...args: A) => {
    exitCode = await fn(...args);
  };
}

/** A command made of sub-commands: none, or an unknown one, is a one-line usage error. */
export function requireSubcommand(cmd: Command): Command {
  const names = () => cmd.commands.map((c) => c.name()).join(', ');
  return cmd
    .usage('<sub-command> [options]')
    .argument('[sub-command]')
    .action((sub?: string) => {
      throw new UsageError(sub ? `unknown sub-command "${sub}" (${names()})` : `missing sub-command (${names()})`);
    });
}

export function group(parent: Command, name: string, summary: string): Command {
  return requireSubcommand(parent.command(name).description(summary));
}

/**
 * A program whose errors come back to runProgram instead of exiting: every command created from it inherits
 * this, so help, unknown options, missing arguments and --version behave the same everywhere.
 */
export function newProgram(name: string, description: string): Command {
  const program = new Command(name).description(description).exitOverride();
  program.configureOutput({ outputError: () => undefined });
  program.option('-v, --verbose', "failures add their details, and the client libraries' logs");
  program.hook('preAction', (_program, action) => {
    if (action.optsWithGlobals()['verbose']) setVerbose();
  });
  return program;
}

/** The prefix of a failure line: `trackflow <command>`, or the program's name alone. */
function prefixOf(program: Command, argv: string[]): string {
  const names = new Set(program.commands.map((c) => c.name()));
  const sub = argv.find((a) => names.has(a));
  return program.name() === 'trackflow' && sub ? `trackflow ${sub}` : program.name();
}

/** Commander's own outcomes: help and --version are success, the rest is bad usage. */
function commanderOutcome(err: CommanderError): number | UsageError {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
  if (err.code === 'commander.help') return EXIT.usage;
  return new UsageError(err.message.replace(/^error: /, ''));
}

/** Runs the program on `argv`; every failure is one line on stderr (details under --verbose) and its exit code. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  exitCode = EXIT.ok;
  // A reader that stops early (`| head`) is not a failure of the command.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (caught) {
    let err: unknown = caught;
    if (caught instanceof CommanderError) {
      const outcome = commanderOutcome(caught);
      if (typeof outcome === 'number') return outcome;
      err = outcome;
    }
    const f = describeFailure(err);
    const prefix = prefixOf(program, argv);
    process.stderr.write(`${prefix}: ${f.message}${f.usage ? ` (${prefix} --help for usage)` : ''}\n`);
    if (verbose() || program.opts()['verbose']) process.stderr.write(failureDetail(err) + '\n');
    return f.exitCode;
  }
}
