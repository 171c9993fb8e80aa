import { newProgram, requireSubcommand, runProgram } from './cli/command';
import { defineStackCommands } from './cli/stack';

// `npm run stack -- <sub-command>`: the same commands, flags and exit codes as `trackflow stack`.
const program = newProgram('trackflow stack', 'Provision and run the local Cassandra, Kafka, MariaDB and Temporal servers');
defineStackCommands(requireSubcommand(program));

void runProgram(program, process.argv.slice(2)).then((code) => {
  // Client libraries may keep sockets in their pools for a while; the command is done, so leave now.
  process.exit(code);
});
