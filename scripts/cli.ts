import { EXIT, UsageError, wantsHelp } from '../lib/cli/command';
import { COMMANDS } from '../lib/cli/registry';
import '../lib/cli/commands';

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'trackflow: tracking logs to a trustworthy analytics warehouse',
    '',
    'Usage: trackflow <command> [options]   (trackflow <command> --help for details)',
    '',
    'Commands:',
    ...lines,
    '',
    'Exit codes: 0 ok, 1 check failed, 2 usage error, 3 service unavailable.',
  ].join('\n');
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? EXIT.ok : EXIT.usage;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`trackflow: unknown command "${name}"\n\n${usage()}\n`);
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
      process.stderr.write(`trackflow ${name}: ${err.message}\n\n${command.help}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`trackflow: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT.failed;
  },
);
