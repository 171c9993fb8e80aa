import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { liveStatus, mergeHeartbeats, renderConsumers, renderStatus, type LeaseHeartbeat } from './streamStatus';
import { streamWorkflowId } from '../../client/ids';
import { config } from '../../lib/config';
import { NotFound, UsageError } from '../../lib/domain/errors';
import { EXIT, act, group, output, positiveInt } from './command';
import type { StreamStatus } from '../../workflows';

const DETAILS = `
Controls the streamToWarehouse workflow (Kafka -> MySQL), one per topic and consumer group,
with workflow id stream-<topic>-<group>. The stream worker (npm run worker:stream) does the work.
start says so and exits 0 if the stream is already running. C consumers lease at once, consumer i
owning the partitions p with p mod C = i (default: the partition count, at most
TRACKFLOW_STREAM_MAX_CONSUMERS). Nothing is lost on scale or drain: offsets live in MySQL.
Exit status: 0 ok, 1 no such stream, 2 bad usage, 3 Temporal (or, for status, a pipeline worker) unreachable.`;

const workflows = () => import('../../workflows');

function consumersWithin(consumers: number | undefined): number | undefined {
  const partitions = config().kafka.partitions;
  if (consumers !== undefined && consumers > partitions) {
    throw new UsageError(`--consumers ${consumers} is more than the ${partitions} partitions; the extra consumers would only idle`);
  }
  return consumers;
}

function streamId(): string {
  return streamWorkflowId(config().kafka.topic, config().kafka.consumerGroup);
}

/** Runs `fn` on the stream's handle; a stream that does not exist is NotFound (exit 1). */
async function onStream(fn: (handle: WorkflowHandle, client: Client) => Promise<number>): Promise<number> {
  const { withTemporal } = await import('../../client/cli');
  const { WorkflowNotFoundError } = await import('@temporalio/client');
  const workflowId = streamId();
  return withTemporal(async (client) => {
    try {
      return await fn(client.workflow.getHandle(workflowId), client);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFound(`no running stream ${workflowId} (start it with trackflow stream start)`);
      throw err;
    }
  });
}

/** The running leases' last heartbeats (one per consumer in flight): counts so far, lag per partition now. */
async function leaseHeartbeats(handle: WorkflowHandle): Promise<LeaseHeartbeat[]> {
  const { defaultPayloadConverter } = await import('@temporalio/common');
  const d = await handle.describe();
  const beats: LeaseHeartbeat[] = [];
  for (const a of d.raw.pendingActivities ?? []) {
    const payload = a.activityType?.name === 'consumeLease' ? a.heartbeatDetails?.payloads?.[0] : undefined;
    const v = payload ? defaultPayloadConverter.fromPayload<LeaseHeartbeat>(payload) : undefined;
    if (v && Array.isArray(v.partitions)) beats.push(v);
  }
  return beats;
}

async function start(opts: { leaseMs?: number; maxLeases?: number; consumers?: number; json?: boolean }): Promise<number> {
  const consumers = consumersWithin(opts.consumers);
  const { startStream, streamStartOf } = await import('../../client/stream');
  const { uiLink, withTemporal } = await import('../../client/cli');
  const input = { leaseMs: opts.leaseMs, maxLeasesPerRun: opts.maxLeases, ...(consumers !== undefined ? { consumers } : {}) };
  const r = await withTemporal((client) => startStream(client, streamStartOf(config(), input)));
  if (r.started) output(Boolean(opts.json), { workflowId: r.workflowId, runId: r.runId, started: true }, () => `Started ${r.workflowId}\n  ${uiLink(r.workflowId)}`);
  else output(Boolean(opts.json), { workflowId: r.workflowId, started: false, alreadyRunning: true }, () => `${r.workflowId} is already running.`);
  return EXIT.ok;
}

async function status(opts: { json?: boolean }): Promise<number> {
  const { statusQuery } = await workflows();
  return onStream(async (handle) => {
    const d = await handle.describe();
    let s: StreamStatus | undefined;
    try {
      s = await handle.query(statusQuery);
    } catch (err) {
      // Queries are answered by a pipeline worker; without one, describe still tells whether it runs.
      if (d.status.name === 'RUNNING') {
        process.stderr.write(
          `trackflow stream: ${handle.workflowId} is running, but its status query was not answered ` +
            `(${(err as Error).message}); is a pipeline worker up? (npm run worker:pipeline)\n`,
        );
        output(Boolean(opts.json), { workflowId: handle.workflowId, runId: d.runId, workflowStatus: d.status.name, status: null }, () => `${handle.workflowId}: ${d.status.name}`);
        return EXIT.unavailable;
      }
    }
    const beats = d.status.name === 'RUNNING' ? await leaseHeartbeats(handle).catch(() => []) : [];
    const hb = mergeHeartbeats(beats);
    const live = s ? liveStatus(s, hb) : undefined;
    output(Boolean(opts.json), { workflowId: handle.workflowId, runId: d.runId, workflowStatus: d.status.name, status: s, live, inFlight: beats }, () =>
      [renderStatus(handle.workflowId, d.status.name, s, hb), ...renderConsumers(s, beats)].join('\n'));
    return EXIT.ok;
  });
}

/** pause and resume: a signal without arguments, by its definition. */
function sendSignal(name: 'pause' | 'resume') {
  return async (opts: { json?: boolean }): Promise<number> => {
    const { pauseSignal, resumeSignal } = await workflows();
    return onStream(async (handle) => {
      await handle.signal(name === 'pause' ? pauseSignal : resumeSignal);
      output(Boolean(opts.json), { workflowId: handle.workflowId, signalled: name }, () => `Sent ${name} to ${handle.workflowId}.`);
      return EXIT.ok;
    });
  };
}

async function scale(opts: { consumers: number; json?: boolean }): Promise<number> {
  const consumers = consumersWithin(opts.consumers) as number;
  const { scaleSignal } = await workflows();
  return onStream(async (handle) => {
    await handle.signal(scaleSignal, consumers);
    output(Boolean(opts.json), { workflowId: handle.workflowId, signalled: 'scale', consumers }, () => `Scaling ${handle.workflowId} to ${consumers} consumer(s).`);
    return EXIT.ok;
  });
}

async function drain(opts: { wait?: boolean; json?: boolean }): Promise<number> {
  const { drainSignal } = await workflows();
  return onStream(async (handle) => {
    await handle.signal(drainSignal);
    if (!opts.wait) {
      output(Boolean(opts.json), { workflowId: handle.workflowId, signalled: 'drain' }, () => `Draining ${handle.workflowId}; trackflow stream status shows when it is drained.`);
      return EXIT.ok;
    }
    const result: unknown = await handle.result();
    output(Boolean(opts.json), { workflowId: handle.workflowId, result }, () => `Drained ${handle.workflowId}:\n${JSON.stringify(result, null, 2)}`);
    return EXIT.ok;
  });
}

async function stop(opts: { json?: boolean }): Promise<number> {
  return onStream(async (handle) => {
    await handle.cancel();
    output(Boolean(opts.json), { workflowId: handle.workflowId, cancelled: true }, () => `Cancelling ${handle.workflowId}; the in-flight lease commits or rolls back first.`);
    return EXIT.ok;
  });
}

export function defineStream(program: Command): void {
  const stream = group(program, 'stream', 'Start, watch, pause, drain or stop the Kafka -> MySQL stream').addHelpText('after', DETAILS);
  stream
    .command('start')
    .description('start the stream (exit 0 if it already runs)')
    .option('--lease-ms <n>', 'length of one consume lease', positiveInt)
    .option('--max-leases <n>', 'leases per run before continue-as-new', positiveInt)
    .option('--consumers <c>', 'consumers leasing at once', positiveInt)
    .option('--json', 'print JSON')
    .action(act(start));
  stream
    .command('status')
    .description('consumers, leases, live totals (including the lease in flight), lag per partition and the last error')
    .option('--json', 'print JSON')
    .action(act(status));
  stream.command('pause').description('finish the in-flight lease, then hold (signal pause)').option('--json', 'print JSON').action(act(sendSignal('pause')));
  stream.command('resume').description('start leasing again (signal resume)').option('--json', 'print JSON').action(act(sendSignal('resume')));
  stream
    .command('scale')
    .description('change the consumer count of the running stream (signal scale)')
    .requiredOption('--consumers <c>', 'consumers leasing at once', positiveInt)
    .option('--json', 'print JSON')
    .action(act(scale));
  stream
    .command('drain')
    .description('cancel the in-flight lease so it commits or rolls back, then complete with the totals (signal drain)')
    .option('--wait', 'wait for the totals and print them')
    .option('--json', 'print JSON')
    .action(act(drain));
  stream
    .command('stop')
    .description('cancel the workflow (the lease is cancelled the same clean way, but no totals are returned)')
    .option('--json', 'print JSON')
    .action(act(stop));
}
