import fs from 'node:fs';

/** CPU and memory of this process over one benchmark stage. */
export interface StageUsage {
  seconds: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  cpuSeconds: number;
  /** cpuSeconds / seconds: 1.0 is one core busy for the whole stage. */
  cpuCores: number;
  rssStartMb: number;
  rssPeakMb: number;
  rssEndMb: number;
  heapPeakMb: number;
}

const MB = 2 ** 20;
const round = (x: number, d = 2): number => Number(x.toFixed(d));

/**
 * Runs `fn`, sampling RSS every 100 ms. The peak is a sample maximum, not the kernel's high-water mark
 * (resourceUsage().maxRSS never goes down, so it cannot be attributed to a stage); a spike shorter than
 * 100 ms can be missed.
 */
export async function measureStage<T>(
  name: string,
  fn: () => Promise<T>,
  opts: { log?: (line: string) => void; progress?: () => string; everyMs?: number } = {},
): Promise<{ result: T; usage: StageUsage }> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const rssStart = process.memoryUsage.rss();
  let rssPeak = rssStart;
  let heapPeak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }, 100);
  const reporter = opts.log
    ? setInterval(() => {
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        const extra = opts.progress ? `, ${opts.progress()}` : '';
        opts.log!(`  [${name}] ${s.toFixed(0)} s, rss ${Math.round(process.memoryUsage.rss() / MB)} MB${extra}`);
      }, opts.everyMs ?? 5000)
    : undefined;
  sampler.unref();
  reporter?.unref();
  try {
    const result = await fn();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const rssEnd = process.memoryUsage.rss();
    rssPeak = Math.max(rssPeak, rssEnd);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return {
      result,
      usage: {
        seconds: round(seconds, 3),
        cpuUserSeconds: round(cpu.user / 1e6),
        cpuSystemSeconds: round(cpu.system / 1e6),
        cpuSeconds: round(cpuSeconds),
        cpuCores: round(cpuSeconds / seconds),
        rssStartMb: Math.round(rssStart / MB),
        rssPeakMb: Math.round(rssPeak / MB),
        rssEndMb: Math.round(rssEnd / MB),
        heapPeakMb: Math.round(heapPeak / MB),
      },
    };
  } finally {
    clearInterval(sampler);
    if (reporter) clearInterval(reporter);
  }
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** CPU and memory of another process (a worker, a stage's child process), read from /proc while it runs. */
export interface ProcessUsage {
  pid: number;
  cpuSeconds: number;
  rssStartMb: number;
  rssPeakMb: number;
  rssEndMb: number;
}

// Linux reports process CPU in clock ticks; USER_HZ is 100 on every mainstream kernel configuration.
const TICKS_PER_SECOND = 100;

export function readProc(pid: number): { cpuSeconds: number; rssMb: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuSeconds: ticks / TICKS_PER_SECOND, rssMb: rssKb / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples `pid` every 100 ms until stop(); the figures after stop() are the last ones read if it has exited. */
export function sampleProcess(pid: number): { stop(): ProcessUsage } {
  const first = readProc(pid) ?? { cpuSeconds: 0, rssMb: 0 };
  let last = first;
  let peak = first.rssMb;
  const timer = setInterval(() => {
    const now = readProc(pid);
    if (!now) return;
    last = now;
    peak = Math.max(peak, now.rssMb);
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      const end = readProc(pid) ?? last;
      return {
        pid,
        cpuSeconds: Number((end.cpuSeconds - first.cpuSeconds).toFixed(1)),
        rssStartMb: Math.round(first.rssMb),
        rssPeakMb: Math.round(Math.max(peak, end.rssMb)),
        rssEndMb: Math.round(end.rssMb),
      };
    },
  };
}
