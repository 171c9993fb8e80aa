import { EXIT, UsageError, act, newProgram, runProgram } from './cli/command';
import { defineCommands } from './cli/commands';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../lib/config';

// Read at run time: importing package.json would make tsc copy it into dist/, where it would pass for the
// repository root.
const { version } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

const EPILOG = `
A failure prints one line on stderr (--verbose adds the details and the client libraries' logs).
Exit codes: 0 ok, 1 check failed, 2 usage error, 3 service unavailable.`;

const program = newProgram('trackflow', 'trackflow: tracking logs to a trustworthy analytics warehouse')
  .version(version, '-V, --version')
  .usage('[--verbose] <command> [options]')
  .helpCommand(true)
  .addHelpText('after', EPILOG)
  .argument('[command]')
  .action(act((name?: string) => {
    if (name) throw new UsageError(`unknown command "${name}"`);
    program.outputHelp();
    return EXIT.usage;
  }));
defineCommands(program);

void runProgram(program, process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
