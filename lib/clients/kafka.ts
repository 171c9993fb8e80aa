import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig as KafkaJsConfig } from 'kafkajs';

// kafkajs warns about its v2 partitioner change on every producer; trackflow never used v1.
process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';
import type { KafkaConfig } from '../config';
import { tlsOptions } from './tls';

export function createKafka(cfg: KafkaConfig, clientSuffix = '', overrides: Partial<KafkaJsConfig> = {}): Kafka {
  return new Kafka({
    clientId: clientSuffix ? `${cfg.clientId}-${clientSuffix}` : cfg.clientId,
    brokers: cfg.brokers,
    ssl: tlsOptions(cfg.tls),
    sasl: cfg.sasl as never,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 300, retries: 8 },
    ...overrides,
  });
}
