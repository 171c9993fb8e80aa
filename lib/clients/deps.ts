import type { Client as CassandraClient } from 'cassandra-driver';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import type { Config } from '../config';
import type { ActivityFaultHook } from '../faults';
import type { Metrics } from '../metrics';

/** Clients built once per worker and injected into every activity and the stages they run. */
export interface ActivityDeps {
  cassandra: CassandraClient;
  kafka: Kafka;
  mysql: Pool;
  config: Config;
  metrics: Metrics;
  /**
   * Test-only fault hook (lib/faults.ts). Production workers never set it and nothing reads it from the
   * environment; the fault suite's worker entry point (test/support/faultWorker.ts) does.
   */
  faults?: ActivityFaultHook;
}
