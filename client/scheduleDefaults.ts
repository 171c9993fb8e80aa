// The schedules' defaults, apart from client/schedules.ts so that `trackflow schedule --help` shows them
// without loading the Temporal client.

export const DEFAULT_SCHEDULE_ID = 'trackflow-daily-ingest';
/** 02:00 UTC every day: the slot the Airflow DAG used, after the nightly exports land. */
export const DEFAULT_CRON = '0 2 * * *';

export const DEFAULT_VERIFY_SCHEDULE_ID = 'trackflow-daily-verify';
/** 04:00 UTC: after the 02:00 ingest has published yesterday's exports and the stream has had time to consume them. */
export const DEFAULT_VERIFY_CRON = '0 4 * * *';
