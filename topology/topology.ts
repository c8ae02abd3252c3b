import { TopologyDescription } from './topology-description.js';
import { changelogTopicName } from '../statestores/changelogging-store.js';
import { resolveTopic, type GlobalStoreSpec, type SubTopologySpec } from './topology-spec.js';

/** Every topic a topology touches for one application id: what the runtime must create or check. */
export interface TopologyTopics {
  /** External topics read by sub-topologies. */
  readonly sourceTopics: readonly string[];
  /** External topics written by sub-topologies. */
  readonly sinkTopics: readonly string[];
  /** `<applicationId>-<name>-repartition`; create them with the source topics' partition count. */
  readonly repartitionTopics: readonly string[];
  /** `<applicationId>-<store>-changelog` for each logged store; compacted. */
  readonly changelogTopics: readonly { readonly store: string; readonly topic: string }[];
  /** Written by sources whose policy is `dead-letter`. */
  readonly deadLetterTopics: readonly string[];
  /** Read in full by every process into the global stores. */
  readonly globalTopics: readonly string[];
}

function deepFreeze<T>(value: T): T {
  // Only our own description objects: serdes, suppliers and sinks belong to the user.
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
  } else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      if (!key.endsWith('Serde') && key !== 'supplier' && key !== 'sink' && key !== 'topicExtractor') deepFreeze(item);
    }
  }
  return Object.freeze(value);
}

/**
 * What `StreamsBuilder.build()` returns: an immutable description, no I/O, no running parts. The
 * runtime and the TopologyTestDriver instantiate tasks from `subTopologies` (one task per
 * sub-topology and partition) and fill the global stores from `globalStores`.
 */
export class Topology {
  readonly subTopologies: readonly SubTopologySpec[];
  readonly globalStores: readonly GlobalStoreSpec[];

  constructor(subTopologies: readonly SubTopologySpec[], globalStores: readonly GlobalStoreSpec[]) {
    this.subTopologies = deepFreeze([...subTopologies]);
    this.globalStores = deepFreeze([...globalStores]);
    Object.freeze(this);
  }

  describe(): TopologyDescription {
    return new TopologyDescription(this.subTopologies, this.globalStores);
  }

  /** Partition counts given with `repartition({ numberOfPartitions })`, by resolved repartition topic name. */
  repartitionPartitions(applicationId: string): ReadonlyMap<string, number> {
    return new Map(
      this.subTopologies.flatMap((sub) =>
        sub.nodes.flatMap((node) =>
          node.kind === 'topic-sink' && node.internal && node.topic !== undefined && node.numberOfPartitions !== undefined
            ? [[resolveTopic(applicationId, node.topic, true), node.numberOfPartitions] as const]
            : [],
        ),
      ),
    );
  }

  topics(applicationId: string): TopologyTopics {
    const unique = (names: string[]): string[] => [...new Set(names)];
    const external = (sub: SubTopologySpec, names: readonly string[]): string[] =>
      names.filter((t) => !sub.internalTopics.includes(t));
    const deadLetter = this.subTopologies.flatMap((sub) =>
      sub.nodes.flatMap((node) =>
        node.kind === 'source' && node.onDeserializationError === 'dead-letter'
          ? node.topics.map((t) => node.deadLetterTopic ?? resolveTopic(applicationId, `${t}-dlq`, node.internal))
          : [],
      ),
    );
    return {
      sourceTopics: unique(this.subTopologies.flatMap((sub) => external(sub, sub.sourceTopics))),
      sinkTopics: unique(this.subTopologies.flatMap((sub) => external(sub, sub.sinkTopics))),
      repartitionTopics: unique(
        this.subTopologies.flatMap((sub) => sub.internalTopics.map((t) => resolveTopic(applicationId, t, true))),
      ),
      changelogTopics: this.subTopologies.flatMap((sub) =>
        sub.stores.filter((s) => s.logged).map((s) => ({ store: s.name, topic: changelogTopicName(applicationId, s.name) })),
      ),
      deadLetterTopics: unique(deadLetter),
      globalTopics: this.globalStores.map((g) => g.topic),
    };
  }
}
