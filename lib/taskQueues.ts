/**
 * Every Temporal task queue trackflow uses (defaults; config.temporal.taskQueues may override them per
 * deployment). Workers and clients read them from config; nobody spells them twice.
 */
export const TASK_QUEUES = {
  /** Ingest, publish and job-dimension activities, plus all workflows. */
  pipeline: 'trackflow-pipeline',
  /** Only the long-lived Kafka-to-MySQL consumption activity. */
  stream: 'trackflow-stream',
} as const;

export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];
