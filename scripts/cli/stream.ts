import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { liveStatus, mergeHeartbeats, renderConsumers, renderStatus, type LeaseHeartbeat } from './streamStatus';
import { config, defaultConsumers } from '../../lib/config';
import type { Command } from './command';
import { EXIT, UsageError, output } from './command';
import { parseFlags, uiLink, withTemporal } from '../../client/cli';
import { streamWorkflowId } from '../../client/ids';
import { scaleSignal } from '../../workflows/streamToWarehouse';
import type { StreamStatus } from '../../workflows';

const HELP = `Usage: trackflow stream <start|stop|status|pause|resume|drain|scale> [--json]

Controls the streamToWarehouse workflow (Kafka -> MySQL), one per topic and consumer group,
with workflow id stream-<topic>-<group>. The stream worker (npm run worker:stream) does the work.

  start [--lease-ms N] [--max-leases N] [--consumers C]
          Start the stream; says so and exits 0 if it is already running. C consumers lease at once,
          consumer i owning the partitions p with p mod C = i (default: the partition count, at most
          TRACKFLOW_STREAM_MAX_CONSUMERS).
  scale --consumers C
          Change the consumer count of the running stream (signal "scale"): the leases in flight
          commit or roll back, then C new ones start. Nothing is lost: offsets live in MySQL.
  status  Consumers (partitions, offsets, lag, worker, last error of each), leases, live totals (finished leases plus the one in flight, from its heartbeat), lag
          per partition now, and the last error with its age, marked CURRENT or resolved (a lease
          ended cleanly after it).
  pause   Finish the in-flight lease, then hold (signal "pause").
  resume  Start leasing again (signal "resume").
  drain [--wait]
          Cancel the in-flight lease so it commits or rolls back its batch, then complete and
          return the totals (signal "drain"); --wait prints them.
  stop    Cancel the workflow (the lease is cancelled the same clean way, but no totals are returned).`;

const SUBS = ['start', 'stop', 'status', 'pause', 'resume', 'drain', 'scale'] as const;
type Sub = (typeof SUBS)[number];

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/** The running leases' last heartbeats (one per consumer in flight): counts so far, lag per partition now. */
async function leaseHeartbeats(handle: WorkflowHandle): Promise<LeaseHeartbeat[]> {
  const d = await handle.describe();
  const beats: LeaseHeartbeat[] = [];
  for (const a of d.raw.pendingActivities ?? []) {
    const payload = a.activityType?.name === 'consumeLease' ? a.heartbeatDetails?.payloads?.[0] : undefined;
    const v = payload ? defaultPayloadConverter.fromPayload<LeaseHeartbeat>(payload) : undefined;
    if (v && Array.isArray(v.partitions)) beats.push(v);
  }
  return beats;
}

async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub) {
    process.stdout.write(HELP + '\n');
    return EXIT.usage;
  }
  if (!(SUBS as readonly string[]).includes(sub)) throw new UsageError(`unknown sub-command "${sub}"`);
  const { values } = parseFlags(rest, {
    json: { type: 'boolean' },
    wait: { type: 'boolean' },
    'lease-ms': { type: 'string' },
    'max-leases': { type: 'string' },
    consumers: { type: 'string' },
  });
  const json = values.json ?? false;
  const leaseMs = positiveInt('--lease-ms', values['lease-ms']);
  const maxLeasesPerRun = positiveInt('--max-leases', values['max-leases']);
  const cfg = config();
  const consumers = positiveInt('--consumers', values.consumers);
  if (consumers !== undefined && consumers > cfg.kafka.partitions) {
    throw new UsageError(`--consumers ${consumers} is more than the ${cfg.kafka.partitions} partitions; the extra consumers would only idle`);
  }
  const workflowId = streamWorkflowId(cfg.kafka.topic, cfg.kafka.consumerGroup);

  return withTemporal(async (client) => {
    const handle = client.workflow.getHandle(workflowId);
    try {
      switch (sub as Sub) {
        case 'start': {
          try {
            const started = await client.workflow.start('streamToWarehouse', {
              taskQueue: cfg.temporal.taskQueues.pipeline,
              workflowId,
              args: [{ leaseMs, maxLeasesPerRun, streamTaskQueue: cfg.temporal.taskQueues.stream, consumers: consumers ?? defaultConsumers(cfg) }],
              // A drained or stopped stream can be started again under the same id; a running one cannot.
              workflowIdReusePolicy: 'ALLOW_DUPLICATE',
              workflowIdConflictPolicy: 'FAIL',
              memo: { topic: cfg.kafka.topic, group: cfg.kafka.consumerGroup },
            });
            output(json, { workflowId, runId: started.firstExecutionRunId, started: true }, () => `Started ${workflowId}\n  ${uiLink(workflowId)}`);
          } catch (err) {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            output(json, { workflowId, started: false, alreadyRunning: true }, () => `${workflowId} is already running.`);
          }
          return EXIT.ok;
        }
        case 'status': {
          const d = await handle.describe();
          let status: StreamStatus | undefined;
          try {
            status = await handle.query<StreamStatus>('status');
          } catch (err) {
            // Queries are answered by a pipeline worker; without one, describe still tells whether it runs.
            if (d.status.name === 'RUNNING') {
              process.stderr.write(
                `trackflow stream: ${workflowId} is running, but its status query was not answered ` +
                  `(${(err as Error).message}); is a pipeline worker up? (npm run worker:pipeline)\n`,
              );
              output(json, { workflowId, runId: d.runId, workflowStatus: d.status.name, status: null }, () => `${workflowId}: ${d.status.name}`);
              return EXIT.unavailable;
            }
          }
          const beats = d.status.name === 'RUNNING' ? await leaseHeartbeats(handle).catch(() => []) : [];
          const hb = mergeHeartbeats(beats);
          const live = status ? liveStatus(status, hb) : undefined;
          output(json, { workflowId, runId: d.runId, workflowStatus: d.status.name, status, live, inFlight: beats }, () =>
            [renderStatus(workflowId, d.status.name, status, hb), ...renderConsumers(status, beats)].join('\n'));
          return EXIT.ok;
        }
        case 'pause':
        case 'resume':
          await handle.signal(sub);
          output(json, { workflowId, signalled: sub }, () => `Sent ${sub} to ${workflowId}.`);
          return EXIT.ok;
        case 'scale': {
          if (consumers === undefined) throw new UsageError('stream scale needs --consumers C');
          await handle.signal(scaleSignal, consumers);
          output(json, { workflowId, signalled: 'scale', consumers }, () => `Scaling ${workflowId} to ${consumers} consumer(s).`);
          return EXIT.ok;
        }
        case 'drain': {
          await handle.signal('drain');
          if (!values.wait) {
            output(json, { workflowId, signalled: 'drain' }, () => `Draining ${workflowId}; trackflow stream status shows when it is drained.`);
            return EXIT.ok;
          }
          const result: unknown = await handle.result();
          output(json, { workflowId, result }, () => `Drained ${workflowId}:\n${JSON.stringify(result, null, 2)}`);
          return EXIT.ok;
        }
        case 'stop':
          await handle.cancel();
          output(json, { workflowId, cancelled: true }, () => `Cancelling ${workflowId}; the in-flight lease commits or rolls back first.`);
          return EXIT.ok;
      }
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        process.stderr.write(`trackflow stream: no running stream ${workflowId} (start it with trackflow stream start)\n`);
        return EXIT.failed;
      }
      throw err;
    }
  });
}

export const command: Command = { name: 'stream', summary: 'Start, watch, pause, drain or stop the Kafka -> MySQL stream', help: HELP, run };
