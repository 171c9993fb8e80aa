import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig as KafkaJsConfig } from 'kafkajs';

// kafkajs warns about its v2 partitioner change on every producer; trackflow never used v1.
process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';
import type { KafkaConfig } from '../config';
import { hostOf, tlsOptions } from './tls';

export function createKafka(cfg: KafkaConfig, clientSuffix = '', overrides: Partial<KafkaJsConfig> = {}): Kafka {
  if (cfg.sasl?.mechanism === 'plain' && !cfg.tls.enabled) {
    throw new Error('TRACKFLOW_KAFKA_SASL_MECHANISM=plain sends the password in clear: enable TRACKFLOW_KAFKA_TLS or use scram-sha-512');
  }
  return new Kafka({
    clientId: clientSuffix ? `${cfg.clientId}-${clientSuffix}` : cfg.clientId,
    brokers: cfg.brokers,
    ssl: tlsOptions(cfg.tls, 'kafka', hostOf(cfg.brokers[0])),
    sasl: cfg.sasl as never,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 300, retries: 8 },
    ...overrides,
  });
}
