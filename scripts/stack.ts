import { EXIT, UsageError } from './cli/command';
import { command } from './cli/stack';

async function main(): Promise<void> {
  let code: number;
  try {
    code = await command.run(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // Bad usage, or a request the stack's state refuses: one line, not a stack trace.
    process.stderr.write(`trackflow stack: ${err.message}\n`);
    code = EXIT.usage;
  }
  // Client libraries may keep sockets in their pools for a while; the CLI is done, so leave now.
  process.exit(code);
}

void main();
