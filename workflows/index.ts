export { ingestAndPublish, ingestProgressQuery } from './ingestAndPublish';
export type { IngestAndPublishInput, IngestAndPublishResult, IngestProgress, FileResult, JobFileResult, PublishTotals } from './ingestAndPublish';
export { streamToWarehouse, pauseSignal, resumeSignal, drainSignal, statusQuery } from './streamToWarehouse';
export type { StreamToWarehouseInput, StreamStatus, StreamResult, StreamCarry } from './streamToWarehouse';
export { loadJobs } from './loadJobs';
