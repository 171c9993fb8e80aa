import type { Command } from './command';

/** Commands register lazily so `trackflow --help` does not load every client library. */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {};

export function register(name: string, summary: string, load: () => Promise<Command>): void {
  COMMANDS[name] = { summary, load };
}
