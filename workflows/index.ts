export { ingestAndPublish, ingestProgressQuery } from './ingestAndPublish';
export type { IngestAndPublishInput, IngestAndPublishResult, IngestProgress, FileResult, PublishTotals } from './ingestAndPublish';
export { streamToWarehouse, pauseSignal, resumeSignal, drainSignal, statusQuery } from './streamToWarehouse';
export type { StreamToWarehouseInput, StreamStatus, StreamResult, StreamCarry } from './streamToWarehouse';
export { loadJobs } from './loadJobs';
export { verifyWarehouse, verifyProgressQuery } from './verifyWarehouse';
export type { VerifyWarehouseInput, VerifyWarehouseResult, VerifyProgress } from './verifyWarehouse';
export { rebuildWarehouse, rebuildProgressQuery } from './rebuildWarehouse';
export type { RebuildWarehouseInput, RebuildWarehouseResult, RebuildProgress } from './rebuildWarehouse';
