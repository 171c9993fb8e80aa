import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import type { KafkaCompression } from '../envSchema';

/**
 * Level 3 is zstd's own default; on this topic's batches levels 1 and 3 cost the same CPU and give the
 * same ratio, so the default level is kept.
 */
const ZSTD_LEVEL = 3;

/** kafkajs ships gzip only; its codec hook takes the record bytes of one batch (the Encoder's buffer). */
const zstdCodec = () => ({
  compress: (encoder: { buffer: Buffer }): Promise<Buffer> => zstdCompress(encoder.buffer, ZSTD_LEVEL),
  decompress: (buffer: Buffer): Promise<Buffer> => zstdDecompress(buffer),
});

let registered = false;

/**
 * Registers zstd with kafkajs, once per process. kafkajs keeps codecs in one module-level table that every
 * client reads, so a consumer that did not register it fails on the first zstd batch it fetches: every
 * Kafka client is made by createKafka, which calls this.
 */
export function registerKafkaCodecs(): void {
  if (registered) return;
  CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec;
  registered = true;
}

/** The kafkajs compression type of a configured name. */
export function compressionType(name: KafkaCompression): CompressionTypes {
  switch (name) {
    case 'zstd':
      return CompressionTypes.ZSTD;
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'none':
      return CompressionTypes.None;
  }
}
