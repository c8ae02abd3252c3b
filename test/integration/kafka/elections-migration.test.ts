import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../infra/dynamo-client.js';
import { provisionVoting } from '../../../voting/provision.js';
import { topicNames } from '../../../voting/topics.js';
import { testDriver } from '../../support/kafka-io.js';
import { services, uniquePrefix } from '../../support/services.js';

async function topicConfigs(brokers: string, topic: string, names: string[]): Promise<Record<string, string | null>> {
  const admin = new Admin({ clientId: 'test', bootstrapBrokers: brokers.split(',') });
  try {
    const [d] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: names }] });
    return Object.fromEntries(d.configs.map((c) => [c.name, c.value ?? null]));
  } finally {
    await admin.close();
  }
}

describe('votestream init and an elections topic from before versions', () => {
  it('migrates a compacted elections topic to delete with infinite retention, once (fault 8)', async () => {
    const { brokers, dynamodbEndpoint } = services();
    const prefix = uniquePrefix('migrate');
    const elections = topicNames(prefix).elections;
    const admin = testDriver(brokers).createAdmin();
    await admin.ensureTopics([{ name: elections, partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact', 'retention.ms': '604800000', 'retention.bytes': '1073741824' } }]);
    await admin.close();
    const keys = ['cleanup.policy', 'retention.ms', 'retention.bytes'];
    expect((await topicConfigs(brokers, elections, keys))['cleanup.policy']).toBe('compact');

    const dynamodb = dynamoClient(dynamodbEndpoint);
    try {
      const first = await provisionVoting({ brokers, dynamodb, prefix, partitions: 2 });
      expect(first.topics.found).toEqual([elections]);
      expect(first.topics.migrated).toEqual([`${elections}: cleanup.policy=delete`, `${elections}: retention.ms=-1`, `${elections}: retention.bytes=-1`]);
      expect(await topicConfigs(brokers, elections, keys)).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' });
      const second = await provisionVoting({ brokers, dynamodb, prefix, partitions: 2 });
      expect(second.topics.migrated).toEqual([]);
    } finally {
      dynamodb.destroy();
    }
  });
});
