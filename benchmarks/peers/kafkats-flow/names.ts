/** Names the flow peer and its harness agree on. */

/**
 * The peer's application id. Flow uses it as the consumer group of every source (so it is the group
 * whose committed offsets on `votes` show progress) and in its changelog names
 * (`<applicationId>-<store>-changelog`). Distinct from ours, so both can run on one prefix.
 */
export function kafkatsFlowApplicationId(prefix: string): string {
  return `${prefix}kafkats-flow-dedup`;
}
