/** How every command shows progress on stderr while it waits. */
export interface Progress {
  /** The current state: rewritten in place on a terminal; on a pipe, a timestamped line when it changes. */
  update(line: string, opts?: { force?: boolean }): void;
  /** A line that stays in the scrollback (a finished file, with its batch id). */
  note(line: string): void;
  /** Clears the line being rewritten. */
  end(): void;
}

export interface ProgressOptions {
  /** Print nothing (a --json run keeps stderr for failures). */
  quiet?: boolean;
  /** On a pipe, at most one line per this many ms (a forced update is always printed). */
  minGapMs?: number;
  stream?: NodeJS.WriteStream;
  now?: () => number;
}

/** On a pipe an unchanged state is still printed this often, so a log shows the command is alive. */
const HEARTBEAT_MS = 60_000;

export function createProgress(opts: ProgressOptions = {}): Progress {
  const out = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  const tty = out.isTTY === true && !opts.quiet;
  let last = '';
  let lastAt = -Infinity;
  let shown = false;
  const stamp = () => `${new Date(now()).toISOString()} `;
  return {
    update(line, u) {
      if (opts.quiet) return;
      if (tty) {
        out.write(`\r\x1b[K${line}`);
        shown = true;
      } else {
        const t = now();
        const due = (line !== last && t - lastAt >= (opts.minGapMs ?? 0)) || t - lastAt >= HEARTBEAT_MS;
        if (due || u?.force) {
          out.write(`${stamp()}${line}\n`);
          lastAt = t;
        }
      }
      last = line;
    },
    note(line) {
      if (opts.quiet) return;
      out.write(tty ? `\r\x1b[K${line}\n` : `${stamp()}${line}\n`);
      if (tty && shown) out.write(last);
    },
    end() {
      if (tty && shown) out.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** A terminal refreshes every second; a log every five, so it does not fill with identical polls. */
export function pollInterval(quiet: boolean): number {
  return process.stderr.isTTY && !quiet ? 1000 : 5000;
}
