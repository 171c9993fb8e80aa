import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { KafkaConfig as KafkaJsConfig, Producer, ProducerConfig } from 'kafkajs';
import type { KafkaConfig } from '../config';
import { registerKafkaCodecs } from './kafkaCodecs';
import { hostOf, tlsOptions } from './tls';

/**
 * Producers get kafkajs's default (v2) partitioner named explicitly: without it kafkajs warns about its v2
 * partitioner change on every producer, and trackflow never used v1.
 */
class TrackflowKafka extends Kafka {
  override producer(config: ProducerConfig = {}): Producer {
    return super.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config });
  }
}

export interface TopicReplication {
  replicationFactor?: number;
  minInsyncReplicas?: number;
}

/** The replication each client's configuration asks of the topics it creates (lib/kafka/topics.ts reads it). */
const replicationOf = new WeakMap<Kafka, TopicReplication>();

export function topicReplication(kafka: Kafka): TopicReplication {
  return replicationOf.get(kafka) ?? {};
}

export function createKafka(cfg: KafkaConfig, clientSuffix = '', overrides: Partial<KafkaJsConfig> = {}): Kafka {
  const kafka = kafkaClient(cfg, clientSuffix, overrides);
  replicationOf.set(kafka, { replicationFactor: cfg.replicationFactor, minInsyncReplicas: cfg.minInsyncReplicas });
  return kafka;
}

function kafkaClient(cfg: KafkaConfig, clientSuffix: string, overrides: Partial<KafkaJsConfig>): Kafka {
  if (cfg.sasl?.mechanism === 'plain' && !cfg.tls.enabled) {
    throw new Error('TRACKFLOW_KAFKA_SASL_MECHANISM=plain sends the password in clear: enable TRACKFLOW_KAFKA_TLS or use scram-sha-512');
  }
  // Every client can read every codec trackflow may produce with, whatever this process produces with.
  registerKafkaCodecs();
  return new TrackflowKafka({
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

/**
 * A client properties file for Kafka's own Java tools (the benchmark's ProducerPerformance and
 * ConsumerPerformance) signing in as `sasl`: written 0600 into a private temp directory, so the password
 * never goes on the tools' command line. The caller removes the directory.
 */
export function javaClientProperties(cfg: KafkaConfig): { file: string; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-kafka-client-'));
  const file = path.join(dir, 'client.properties');
  const lines: string[] = [];
  if (cfg.sasl) {
    const q = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    const module = cfg.sasl.mechanism === 'plain' ? 'plain.PlainLoginModule' : 'scram.ScramLoginModule';
    lines.push(
      `security.protocol=${cfg.tls.enabled ? 'SASL_SSL' : 'SASL_PLAINTEXT'}`,
      `sasl.mechanism=${cfg.sasl.mechanism.toUpperCase()}`,
      `sasl.jaas.config=org.apache.kafka.common.security.${module} required username="${q(cfg.sasl.username)}" password="${q(cfg.sasl.password)}";`,
    );
  } else if (cfg.tls.enabled) {
    lines.push('security.protocol=SSL');
  }
  if (cfg.tls.enabled && cfg.tls.caFile) lines.push('ssl.truststore.type=PEM', `ssl.truststore.location=${cfg.tls.caFile}`);
  fs.writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  return { file, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
