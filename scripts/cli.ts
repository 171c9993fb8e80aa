import { EXIT, UsageError, wantsHelp } from '../lib/cli/command';
import { COMMANDS } from '../lib/cli/registry';
import { serviceErrorExit, oneLine, verbose } from '../lib/cli/serviceErrors';
import { setVerbose } from '../lib/config';
import '../lib/cli/commands';

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'trackflow: tracking logs to a trustworthy analytics warehouse',
    '',
    'Usage: trackflow [--verbose] <command> [options]   (trackflow <command> --help for details)',
    '',
    'Commands:',
    ...lines,
    '',
    'A failure prints one line on stderr (--verbose adds the details and the client libraries\' logs).',
    'Exit codes: 0 ok, 1 check failed, 2 usage error, 3 service unavailable.',
  ].join('\n');
}

/** `--verbose` may come before or after the command; it is taken out of the command's own arguments. */
function takeVerbose(argv: string[]): string[] {
  const rest = argv.filter((a) => a !== '--verbose' && a !== '-v');
  if (rest.length !== argv.length) setVerbose();
  return rest;
}

async function main(): Promise<number> {
  const [name, ...rest] = takeVerbose(process.argv.slice(2));
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? EXIT.ok : EXIT.usage;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`trackflow: unknown command "${name}" (trackflow --help lists them)\n`);
    return EXIT.usage;
  }
  const command = await entry.load();
  if (!command.handlesHelp && wantsHelp(rest)) {
    process.stdout.write(command.help + '\n');
    return EXIT.ok;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`trackflow ${name}: ${oneLine(err.message)} (trackflow ${name} --help for usage)\n`);
      if (verbose()) process.stderr.write(command.help + '\n');
      return EXIT.usage;
    }
    return serviceErrorExit(name, err);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`trackflow: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    if (verbose() && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    process.exitCode = EXIT.failed;
  },
);
