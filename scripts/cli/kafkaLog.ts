import type { logCreator } from 'kafkajs';
import { verbose } from './command';

/** kafkajs's logLevel.WARN, by value so that loading the CLI does not load kafkajs. */
const WARN = 2;

/** kafkajs logs its retries as JSON lines on stdout; a command reports the outcome itself, once. */
export const quietKafkaLog: logCreator = () => (entry) => {
  if (verbose() && entry.level <= WARN) process.stderr.write(`kafkajs ${entry.namespace}: ${entry.log.message}\n`);
};
