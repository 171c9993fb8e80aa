import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { config } from '../lib/config';
import { readProc } from './resources';

/** The servers of the local stack (lib/stack/services.ts), by the name of their pid file. */
export const STACK_SERVERS = ['cassandra', 'kafka', 'mariadb', 'temporal'] as const;
export type StackServer = (typeof STACK_SERVERS)[number];

/** Process kinds of one measurement window and their pids, e.g. `{ stage: [pid], cassandra: [pid], ... }`. */
export type ProcessSet = Record<string, number[]>;

function childrenOf(pid: number): number[] {
  try {
    const text = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text ? text.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** A pid and every process below it (a server that forks helpers is charged for them). */
function withDescendants(pid: number): number[] {
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...childrenOf(p));
  }
  return out;
}

/**
 * The servers of this stack only: the pid in `<state dir>/run/<name>.pid` (written by `npm run stack -- up`),
 * accepted when that process's command line names the state dir, so a reused pid or another engineer's stack
 * on the same host is never counted. A server not found (not started by this stack) has no pids.
 */
export function stackServerPids(stateDir = config().stateDir): Record<StackServer, number[]> {
  const out = {} as Record<StackServer, number[]>;
  for (const name of STACK_SERVERS) {
    out[name] = [];
    try {
      const pid = Number(fs.readFileSync(path.join(stateDir, 'run', `${name}.pid`), 'utf8').trim());
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (Number.isInteger(pid) && pid > 0 && cmd.includes(stateDir)) out[name] = withDescendants(pid);
    } catch {
      /* no pid file or no such process: not this stack's server */
    }
  }
  return out;
}

/** Busy CPU seconds of the whole machine (all cores, every process) from /proc/stat. */
function machineBusySeconds(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return (f.reduce((a, b) => a + b, 0) - idle) / 100;
}

/** CPU of each process kind over one window. */
export interface CpuTotals {
  seconds: number;
  /** CPU seconds (user + system) per process kind, from /proc/<pid>/stat. */
  cpuSeconds: Record<string, number>;
  /** The machine's busy CPU seconds over the window: what the kinds do not explain is other work on the host. */
  machineCpuSeconds: number;
  cpus: number;
}

/** The same, with the events of the window and µs of CPU per event per kind (`total`: the sum of the kinds). */
export interface CpuBreakdown extends CpuTotals {
  events: number;
  usPerEvent: Record<string, number>;
}

const round = (x: number, d: number): number => Number(x.toFixed(d));

/**
 * Opens a window over `procs`; stop() reads every process again. A process that exits inside the window is
 * charged up to its last reading, so sample() it (e.g. from a progress timer) when it may exit first.
 */
export function cpuWindow(procs: ProcessSet): { sample(): void; stop(): CpuTotals } {
  const start = Object.fromEntries(Object.entries(procs).map(([k, pids]) => [k, pids.map((p) => readProc(p)?.cpuSeconds ?? 0)]));
  const last = Object.fromEntries(Object.entries(start).map(([k, v]) => [k, [...v]]));
  const machine0 = machineBusySeconds();
  const t0 = process.hrtime.bigint();
  const sample = (): void => {
    for (const [k, pids] of Object.entries(procs)) pids.forEach((p, i) => (last[k]![i] = readProc(p)?.cpuSeconds ?? last[k]![i]!));
  };
  return {
    sample,
    stop(): CpuTotals {
      sample();
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpuSeconds: Record<string, number> = {};
      for (const k of Object.keys(procs)) cpuSeconds[k] = round(last[k]!.reduce((a, b, i) => a + b - start[k]![i]!, 0), 2);
      return { seconds: round(seconds, 2), cpuSeconds, machineCpuSeconds: round(machineBusySeconds() - machine0, 2), cpus: os.cpus().length };
    },
  };
}

/** Per-event figures of a window that did `events` units of work. */
export function perEvent(t: CpuTotals, events: number): CpuBreakdown {
  const total = Object.values(t.cpuSeconds).reduce((a, b) => a + b, 0);
  const per = (cpu: number): number => round((cpu / Math.max(1, events)) * 1e6, 1);
  const usPerEvent = Object.fromEntries([...Object.entries(t.cpuSeconds).map(([k, v]) => [k, per(v)]), ['total', per(total)]]);
  return { ...t, events, usPerEvent };
}

/** The stack's servers plus the given processes of our own, as one set. */
export function withServers(own: ProcessSet, stateDir?: string): ProcessSet {
  return { ...own, ...stackServerPids(stateDir) };
}

/** Runs `fn` inside a window over this process (`stage`) and the stack's servers; `events` counts its work. */
export async function measureCpu<T>(fn: () => Promise<T>, events: (result: T) => number): Promise<{ result: T; cpu: CpuBreakdown }> {
  const w = cpuWindow(withServers({ stage: [process.pid] }));
  const result = await fn();
  return { result, cpu: perEvent(w.stop(), events(result)) };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

/**
 * One row per stage: µs of CPU per event of each process kind (CPU seconds in brackets), the total of the
 * kinds, and the machine's busy CPU over the same window (other work on a shared host shows up there).
 */
export function cpuTable(stages: Array<{ name: string; cpu: CpuBreakdown | undefined }>): string {
  const present = stages.filter((s): s is { name: string; cpu: CpuBreakdown } => s.cpu !== undefined);
  if (!present.length) return '';
  const kinds = [...new Set(present.flatMap((s) => Object.keys(s.cpu.cpuSeconds)))];
  const rows = [['µs CPU / event (CPU s)', 'events', ...kinds, 'total', 'machine busy']];
  for (const { name, cpu } of present) {
    const cell = (k: string): string => (k in cpu.cpuSeconds ? `${cpu.usPerEvent[k]} (${cpu.cpuSeconds[k]!.toFixed(1)})` : '');
    const total = Object.values(cpu.cpuSeconds).reduce((a, b) => a + b, 0);
    const machine = `${round((cpu.machineCpuSeconds / Math.max(1, cpu.events)) * 1e6, 1)} (${cpu.machineCpuSeconds.toFixed(1)})`;
    rows.push([name, cpu.events.toLocaleString('en-US'), ...kinds.map(cell), `${cpu.usPerEvent['total']} (${total.toFixed(1)})`, machine]);
  }
  return table(rows);
}
