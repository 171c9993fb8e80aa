import http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { metricsListenHost } from './config';

type Labels = Record<string, string>;

interface MetricSpec {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  labelNames?: readonly string[];
  /** Label sets created at zero when the registry starts, so each series exists before its first event. */
  initial?: readonly Labels[];
  buckets?: readonly number[];
  /** The worker whose activities produce it; the other worker does not export it (a 0 lag there would mislead). */
  worker?: WorkerName;
}

export type WorkerName = 'pipeline' | 'stream';

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LEASE_BUCKETS = [1, 5, 10, 30, 60, 90, 120, 180, 300];
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Activities last from milliseconds (a discovery) to an hour (a large export, a consume lease). */
const ACTIVITY_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** Every activity type, so their duration and retry series exist from the start. */
export const ACTIVITY_TYPES = [
  'ingestFile', 'loadJobs', 'publishPending', 'consumeLease', 'discoverFiles',
  'listLakeHours', 'verifyHours', 'rebuildHours', 'recordVerifyOutcome',
] as const;

const FILE_RESULTS = [
  { kind: 'tracking', result: 'ok' },
  { kind: 'tracking', result: 'failed' },
  { kind: 'job', result: 'ok' },
  { kind: 'job', result: 'failed' },
];

const results = (...values: string[]) => values.map((result) => ({ result }));

/**
 * Every trackflow metric, declared once (docs/metrics.md is the catalogue an operator reads).
 * Add a metric by adding an entry here; its series then exist from zero at start.
 */
export const CATALOGUE: readonly MetricSpec[] = [
  { name: 'trackflow_worker_up', type: 'gauge', help: 'Whether the worker is polling its task queue (1) or not (0)', labelNames: ['worker'] },
  {
    name: 'trackflow_ingest_rows_total', worker: 'pipeline',
    type: 'counter',
    help: 'Tracking rows handled by ingest, by result',
    labelNames: ['result'],
    initial: results('written', 'already_present', 'rejected'),
  },
  {
    name: 'trackflow_ingest_files_total', worker: 'pipeline',
    type: 'counter',
    help: 'Export files that finished an ingest or job-load activity, by kind and result (failed = will not be retried)',
    labelNames: ['kind', 'result'],
    initial: FILE_RESULTS,
  },
  {
    name: 'trackflow_ingest_file_seconds', worker: 'pipeline',
    type: 'histogram',
    help: 'Time of the ingest or job-load attempt that finished an export file, by kind and result, in seconds',
    labelNames: ['kind', 'result'],
    initial: FILE_RESULTS,
    buckets: ACTIVITY_BUCKETS,
  },
  {
    name: 'trackflow_activity_duration_seconds',
    type: 'histogram',
    help: 'Time of one activity attempt, by activity and outcome (ok, retry, failed, cancelled), in seconds',
    labelNames: ['activity', 'result'],
    initial: ACTIVITY_TYPES.map((activity) => ({ activity, result: 'ok' })),
    buckets: ACTIVITY_BUCKETS,
  },
  {
    name: 'trackflow_activity_retries_total',
    type: 'counter',
    help: 'Activity attempts that failed and will be retried by Temporal, by activity',
    labelNames: ['activity'],
    initial: ACTIVITY_TYPES.map((activity) => ({ activity })),
  },
  { name: 'trackflow_jobs_rows_total', worker: 'pipeline', type: 'counter', help: 'Job export rows handled, by result', labelNames: ['result'], initial: results('upserted', 'rejected') },
  { name: 'trackflow_publish_events_total', worker: 'pipeline', type: 'counter', help: 'Events published to Kafka' },
  { name: 'trackflow_publish_quarantined_total', worker: 'pipeline', type: 'counter', help: 'Lake rows not publishable (quarantined at publish)' },
  {
    name: 'trackflow_stream_events_total', worker: 'stream',
    type: 'counter',
    help: 'Events consumed from Kafka, by what became of them',
    labelNames: ['result'],
    initial: results('counted', 'filtered', 'unattributed', 'dead_lettered', 'redelivered', 'duplicate'),
  },
  { name: 'trackflow_stream_dead_lettered_total', worker: 'stream', type: 'counter', help: 'Poison messages sent to the dead-letter topic' },
  { name: 'trackflow_stream_fenced_total', worker: 'stream', type: 'counter', help: 'Batches refused by the offset compare-and-set (another attempt moved the offset)' },
  {
    name: 'trackflow_stream_errors_total', worker: 'stream',
    type: 'counter',
    help: 'Transient stream errors retried inside a lease, by where they happened',
    labelNames: ['where'],
    initial: ['kafka', 'mysql', 'commit', 'progress'].map((where) => ({ where })),
  },
  { name: 'trackflow_stream_batch_seconds', worker: 'stream', type: 'histogram', help: 'Time of one batch transaction, decode to commit, in seconds', buckets: SECONDS_BUCKETS },
  {
    name: 'trackflow_stream_commit_seconds', worker: 'stream',
    type: 'histogram',
    help: 'Time of one batch transaction in MySQL (offset compare-and-set to commit or refusal), in seconds',
    buckets: SECONDS_BUCKETS,
  },
  { name: 'trackflow_stream_lease_seconds', worker: 'stream', type: 'histogram', help: 'Duration of one consume lease, in seconds', buckets: LEASE_BUCKETS },
  {
    name: 'trackflow_publish_to_warehouse_seconds', worker: 'stream',
    type: 'histogram',
    help: 'From the Kafka timestamp of the oldest message of a batch to its warehouse commit, in seconds',
    buckets: LATENCY_BUCKETS,
  },
  { name: 'trackflow_stream_lag', worker: 'stream', type: 'gauge', help: 'Messages not yet in the warehouse over all partitions (high watermark - next offset)' },
  { name: 'trackflow_stream_partition_lag_messages', worker: 'stream', type: 'gauge', help: 'Messages not yet in the warehouse, per partition', labelNames: ['partition'] },
  {
    name: 'trackflow_schedule_paused', worker: 'pipeline',
    type: 'gauge',
    help: 'Whether a schedule that starts ingestAndPublish is paused (1) or not (0), polled by the pipeline worker',
    labelNames: ['schedule'],
  },
  {
    name: 'trackflow_stream_partition_last_progress_timestamp_seconds', worker: 'stream',
    type: 'gauge',
    help: 'Unix time of the last batch committed for a partition (age = time() - value)',
    labelNames: ['partition'],
  },
  {
    name: 'trackflow_stream_partition_stalled', worker: 'stream',
    type: 'gauge',
    help: 'Partition with lag whose stored offset has not moved for stallMs (1) or not (0)',
    labelNames: ['partition'],
  },
  { name: 'trackflow_stream_data_errors_total', worker: 'stream', type: 'counter', help: 'Batch transactions MySQL refused for a value, split to isolate it' },
  { name: 'trackflow_verify_differences', worker: 'pipeline', type: 'gauge', help: 'Warehouse rows that differ from the lake in the last verify run' },
  { name: 'trackflow_verify_differing_hours', worker: 'pipeline', type: 'gauge', help: 'Hours that differ from the lake in the last verify run' },
  {
    name: 'trackflow_verify_last_verified_hour_seconds', worker: 'pipeline',
    type: 'gauge',
    help: 'Start (Unix seconds) of the latest hour verify found equal to the lake (0 until one has)',
  },
];

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

function build(spec: MetricSpec, registry: Registry): AnyMetric {
  const common = { name: spec.name, help: spec.help, labelNames: [...(spec.labelNames ?? [])], registers: [registry] };
  if (spec.type === 'counter') return new Counter(common);
  if (spec.type === 'gauge') return new Gauge(common);
  return new Histogram({ ...common, buckets: [...(spec.buckets ?? SECONDS_BUCKETS)] });
}

export { metricsListenHost };

/**
 * The process's Prometheus registry (prom-client): the catalogue above, Node process metrics, and
 * optionally the text of another exporter (the Temporal SDK's) appended on the same endpoint.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, AnyMetric>();
  private extra?: () => Promise<string>;

  /** `worker` limits the catalogue to that worker's series (and the shared ones); without it, all of them. */
  constructor(opts: { processMetrics?: boolean; worker?: WorkerName } = {}) {
    for (const spec of CATALOGUE) {
      if (opts.worker && spec.worker && spec.worker !== opts.worker) continue;
      const m = build(spec, this.registry);
      this.metrics.set(spec.name, m);
      if (spec.labelNames?.length) for (const labels of spec.initial ?? []) initialise(m, labels);
      else initialise(m, {});
    }
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** A metric of the catalogue; a name outside it becomes an ad-hoc series of the asked type. */
  private metric(name: string, type: MetricSpec['type'], help: string, labels?: Labels): AnyMetric {
    let m = this.metrics.get(name);
    if (!m) {
      m = build({ name, type, help, labelNames: Object.keys(labels ?? {}) }, this.registry);
      this.metrics.set(name, m);
    }
    return m;
  }

  inc(name: string, help: string, by = 1, labels?: Labels): void {
    const m = this.metric(name, 'counter', help, labels);
    if (m instanceof Counter || m instanceof Gauge) m.inc(labels ?? {}, by);
  }

  set(name: string, help: string, value: number, labels?: Labels): void {
    const m = this.metric(name, 'gauge', help, labels);
    if (m instanceof Gauge) m.set(labels ?? {}, value);
  }

  observe(name: string, value: number, labels?: Labels): void {
    const m = this.metric(name, 'histogram', name, labels);
    if (m instanceof Histogram) m.observe(labels ?? {}, value);
  }

  /** Appends another exporter's text to /metrics (e.g. the Temporal SDK's Prometheus endpoint). */
  appendFrom(fetchText: () => Promise<string>): void {
    this.extra = fetchText;
  }

  async render(): Promise<string> {
    const own = await this.registry.metrics();
    if (!this.extra) return own;
    const more = await this.extra().catch(() => '');
    return more ? `${own.trimEnd()}\n${more.trimEnd()}\n` : own;
  }

  /** Serves /metrics (Prometheus text) and /healthz; port 0 picks a free port. */
  serve(port: number, health: () => { ok: boolean; detail?: unknown }, host = metricsListenHost()): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      if (req.url === '/metrics') {
        this.render().then(
          (text) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(text);
          },
          (err: unknown) => {
            res.writeHead(500);
            res.end(String(err));
          },
        );
      } else if (req.url === '/healthz') {
        const h = health();
        res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(h));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}

function initialise(m: AnyMetric, labels: Labels): void {
  if (m instanceof Histogram) m.zero(labels);
  else if (m instanceof Counter) m.inc(labels, 0);
  else m.set(labels, 0);
}

/** Fetches a local exporter's /metrics text (used for the Temporal SDK's own Prometheus port). */
export function fetchMetricsText(url: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
