import { register } from './registry';

// One line per command; each module exports `command`.
register('stack', 'Provision and run the local Cassandra, Kafka, MariaDB and Temporal servers', async () => (await import('./stack')).command);
register('generate', 'Write a synthetic tracking export, job export and manifest (seeded, deterministic)', async () => (await import('./generate')).command);
register('jobs', 'Load a job export into the job dimension (jobs load <file>)', async () => (await import('./loadJobs')).command);
register('export', 'Print the warehouse events table in contract order (export events [--csv|--json])', async () => (await import('./export')).command);
register('schedule', 'Create and manage the daily ingest and verify schedules (create [--verify]|update|delete|list|pause|unpause|trigger|backfill)', async () => (await import('./schedule')).command);
register('ingest', 'Ingest tracking exports into the lake and publish them (ingest <paths...> | --landing DIR)', async () => (await import('./ingest')).command);
register('stream', 'Start, watch, pause, drain or stop the Kafka -> MySQL stream', async () => (await import('./stream')).command);
register('reconcile', 'Count every stage from the lake to the warehouse and check that they add up (reconcile [--batch ID] [--json])', async () => (await import('./reconcile')).command);
register('report', 'Clicks, spend and conversions per company, campaign, top jobs and hour (report [--json|--csv] [--html FILE])', async () => (await import('./report')).command);
register('wait', 'Wait until every published event is consumed and committed (wait --caught-up [--timeout S])', async () => (await import('./wait')).command);
register('quarantine', 'List and show the rows ingest and publish set aside (quarantine list|show [--batch ID] [--stage S] [--reason R])', async () => (await import('./quarantine')).command);
register('ledger', 'Retention of the event-id ledger (ledger prune --older-than DAYS [--json])', async () => (await import('./ledger')).command);
register('verify', 'Recompute warehouse hours from the lake and compare them with events (verify [--from H --to H | --all] [--json])', async () => (await import('./verify')).command);
register('rebuild', 'Replace warehouse hours with the rows recomputed from the lake, while the stream runs (rebuild --from H --to H | --all [--dry-run])', async () => (await import('./rebuild')).command);
