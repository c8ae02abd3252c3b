/**
 * How many copies a topic gets on a cluster of a given size, one rule for every topic we create
 * (the application's, the runtime's changelogs and repartition topics, the broker's internal ones):
 * three replicas where there are three brokers, and `min.insync.replicas=2` so an acks=all write
 * survives the loss of any one broker yet is refused rather than held by a single copy. A smaller
 * cluster gets what it can hold and min.insync.replicas=1, or no write would ever succeed.
 */
export interface ReplicationRule {
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
}

export function replicationFor(brokerCount: number): ReplicationRule {
  const brokers = Math.max(1, Math.floor(brokerCount));
  return { replicationFactor: Math.min(3, brokers), minInsyncReplicas: brokers >= 3 ? 2 : 1 };
}
