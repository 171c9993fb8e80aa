/**
 * Node flags every worker process runs with (npm scripts, npm start, docker-compose, the benchmark's stage
 * processes). V8 otherwise lets the old generation grow towards a quarter of the machine's memory before it
 * collects hard, so a worker draining a large backlog would sit at ~0.5 GB RSS with little of it live. The
 * bounded pages, chunks and fetches keep the live set far below this cap.
 */
export const WORKER_NODE_FLAGS = ['--max-old-space-size=256'] as const;
