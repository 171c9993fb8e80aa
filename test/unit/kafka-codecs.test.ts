import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { compressionType, registerKafkaCodecs } from '../../lib/clients/kafkaCodecs';
import { envSchema } from '../../lib/envSchema';

type Codec = { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> };
const zstdCodec = (): Codec => (CompressionCodecs[CompressionTypes.ZSTD] as () => Codec)();

const records = Buffer.from(
  Array.from({ length: 500 }, (_, i) => `[2,"26eb3150-0d61-11ed-9fd0-70c372b40ff7",${i},"click",1.25,48,null,1,"b1",${i}]`).join(''),
);

test('zstd is registered with kafkajs and round-trips a record batch', async () => {
  registerKafkaCodecs();
  const packed = await zstdCodec().compress({ buffer: records });
  assert.ok(packed.length < records.length / 4, `${packed.length} bytes for ${records.length}`);
  assert.deepEqual(await zstdCodec().decompress(packed), records);
});

test('what the codec writes is a standard zstd frame (the zstd tool reads it, as the broker and Java clients do)', async () => {
  registerKafkaCodecs();
  const packed = await zstdCodec().compress({ buffer: records });
  assert.equal(packed.readUInt32LE(0), 0xfd2fb528, 'zstd frame magic');
  let tool: Buffer | undefined;
  try {
    tool = execFileSync('zstd', ['-d', '-c'], { input: packed });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (tool) assert.deepEqual(tool, records);
  // And the other way: a frame written by the zstd tool decodes.
  let fromTool: Buffer | undefined;
  try {
    fromTool = execFileSync('zstd', ['-c', '-q'], { input: records });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (fromTool) assert.deepEqual(await zstdCodec().decompress(fromTool), records);
});

test('the configured names map to kafkajs compression types', () => {
  assert.equal(compressionType('zstd'), CompressionTypes.ZSTD);
  assert.equal(compressionType('gzip'), CompressionTypes.GZIP);
  assert.equal(compressionType('none'), CompressionTypes.None);
});

test('TRACKFLOW_KAFKA_COMPRESSION defaults to zstd and refuses a codec kafkajs cannot write', () => {
  const base = { TRACKFLOW_MYSQL_PASSWORD: 'x' };
  assert.equal(envSchema.parse(base).TRACKFLOW_KAFKA_COMPRESSION, 'zstd');
  assert.equal(envSchema.parse({ ...base, TRACKFLOW_KAFKA_COMPRESSION: 'gzip' }).TRACKFLOW_KAFKA_COMPRESSION, 'gzip');
  assert.equal(envSchema.parse({ ...base, TRACKFLOW_KAFKA_COMPRESSION: '' }).TRACKFLOW_KAFKA_COMPRESSION, 'zstd');
  for (const bad of ['lz4', 'snappy', 'ZSTD', 'brotli']) {
    assert.equal(envSchema.safeParse({ ...base, TRACKFLOW_KAFKA_COMPRESSION: bad }).success, false, bad);
  }
});
