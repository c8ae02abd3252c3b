import { describe, expect, it } from 'vitest';
import { kafkaClusterId, storageFormatArgs } from '../../infra/kafka-service.js';

/** Issue 8, "stack up fails about once in 64 runs": a cluster id starting with '-' read as an option. */
describe('Kafka cluster id for the storage tool', () => {
  // 0xf8 puts 62 in the first six bits: base64url '-'.
  const leadingDash = Buffer.from('f8'.repeat(16), 'hex');
  const plain = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

  it('draws again while the id would start with "-", as Kafka Uuid.randomUuid does', () => {
    expect(leadingDash.toString('base64url').startsWith('-')).toBe(true);
    const draws = [leadingDash, leadingDash, plain];
    const sizes: number[] = [];
    const id = kafkaClusterId((size) => {
      sizes.push(size);
      return draws.shift()!;
    });
    expect(id).toBe('ABEiM0RVZneImaq7zN3u_w');
    expect(sizes).toEqual([16, 16, 16]);
  });

  it('a real draw is 22 URL-safe base64 characters not starting with "-"', () => {
    for (let i = 0; i < 2000; i++) expect(kafkaClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });

  it('passes the id in the same token as its option, so even "-..." stays a value', () => {
    expect(storageFormatArgs('-7sR2mXq9QnKc1vB0aZyJwg', '/d/server.properties')).toEqual([
      'kafka.tools.StorageTool',
      'format',
      '--cluster-id=-7sR2mXq9QnKc1vB0aZyJwg',
      '-c',
      '/d/server.properties',
    ]);
  });
});
