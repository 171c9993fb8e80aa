import { command } from '../lib/cli/stack';

async function main(): Promise<void> {
  const code = await command.run(process.argv.slice(2));
  // Client libraries may keep sockets in their pools for a while; the CLI is done, so leave now.
  process.exit(code);
}

void main();
