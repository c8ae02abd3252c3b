import type { SinkSupplier } from '../sink.js';
import type { DeserializationErrorPolicy, TopicNameExtractor } from '../options.js';
import type { ProcessorSupplier } from '../processor.js';
import type { GlobalStoreMerge } from '../topology-spec.js';
import type { Serde } from '../serdes/serde.js';
import { Topology } from '../topology.js';
import { TopologyError } from '../topology-error.js';
import type {
  GlobalStoreSpec,
  NodeSpec,
  StoreSpec,
  SubTopologySpec,
} from '../topology-spec.js';

/*
 * The mutable graph behind StreamsBuilder. The DSL classes only append to it; every structural check
 * happens in build(), so that operators can be declared in any order (a store after the processor
 * that uses it, as in Kafka Streams).
 */

interface SourceDraft {
  readonly kind: 'source';
  readonly name: string;
  readonly topics: readonly string[];
  readonly internal: boolean;
  readonly keySerde: Serde<unknown> | undefined;
  readonly valueSerde: Serde<unknown> | undefined;
  readonly onDeserializationError: DeserializationErrorPolicy;
  readonly deadLetterTopic: string | undefined;
  readonly children: string[];
}

interface ProcessorDraft {
  readonly kind: 'processor';
  readonly name: string;
  readonly supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>;
  readonly stores: readonly string[];
  readonly parents: readonly string[];
  readonly children: string[];
}

interface TopicSinkDraft {
  readonly kind: 'topic-sink';
  readonly name: string;
  /** Undefined when `topicExtractor` picks the topic per record. */
  readonly topic: string | undefined;
  readonly topicExtractor?: TopicNameExtractor<unknown, unknown>;
  readonly internal: boolean;
  readonly numberOfPartitions?: number;
  readonly keySerde: Serde<unknown> | undefined;
  readonly valueSerde: Serde<unknown> | undefined;
  readonly parents: readonly string[];
}

interface ExternalSinkDraft {
  readonly kind: 'external-sink';
  readonly name: string;
  readonly sink: SinkSupplier<unknown, unknown>;
  readonly parents: readonly string[];
}

type NodeDraft = SourceDraft | ProcessorDraft | TopicSinkDraft | ExternalSinkDraft;

interface GlobalStoreDraft {
  readonly storeName: string;
  readonly topic: string;
  readonly sourceName: string;
  readonly processorName: string;
  readonly keySerde: Serde<string>;
  readonly valueSerde: Serde<unknown>;
  readonly onDeserializationError: 'fail' | 'skip-and-log';
  readonly merge: GlobalStoreMerge | undefined;
  /** Creation position, for numbering sub-topologies in declaration order. */
  readonly position: number;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function assertTopicName(topic: string): void {
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    throw new TopologyError(`Invalid topic name "${String(topic)}": use 1-249 of [a-zA-Z0-9._-]`);
  }
}

function validName(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new TopologyError('A processor name must be a non-empty string');
  return name;
}

export class TopologyGraph {
  private index = 0;
  private readonly nodes: NodeDraft[] = [];
  private readonly stores: StoreSpec[] = [];
  private readonly globals: GlobalStoreDraft[] = [];
  /** Pairs of nodes that must share a sub-topology without an edge (a stream-table join and its table). */
  private readonly united: [string, string][] = [];

  /**
   * Kafka Streams' naming (InternalStreamsBuilder.newProcessorName / newStoreName):
   * `<PREFIX>-<10-digit counter>`, one counter for nodes and stores, in declaration order.
   */
  newName(prefix: string): string {
    return `${prefix}-${String(this.index++).padStart(10, '0')}`;
  }

  /**
   * Spends one counter index without naming anything, as Kafka Streams does for a named operator
   * and for each branch of a split: the names generated after it stay the same whether or not an
   * upstream operator is named (a renamed store would lose its changelog on redeploy).
   */
  spendIndex(): void {
    this.index++;
  }

  /** Kafka's NamedInternal.orElseGenerateWithPrefix: a given name still spends its index. */
  nameOrGenerate(name: string | undefined, prefix: string): string {
    const generated = this.newName(prefix);
    if (name === undefined) return generated;
    return validName(name);
  }

  /**
   * The given name as is, spending no index (Kafka's `process(supplier, Named)`); a generated one
   * otherwise.
   */
  givenOrGenerate(name: string | undefined, prefix: string): string {
    return name === undefined ? this.newName(prefix) : validName(name);
  }

  /**
   * Kafka's NamedInternal.suffixWithOrElseGet: `<name><suffix>` for a given name (spending the
   * index all the same), else a generated name.
   */
  suffixedOrGenerate(name: string | undefined, suffix: string, prefix: string): string {
    const generated = this.newName(prefix);
    return name === undefined ? generated : `${validName(name)}${suffix}`;
  }

  /**
   * The node names of a repartition through `<prefix>-repartition` (Kafka's
   * KStreamImpl.createRepartitionedSource): three indexes are always spent (sink, null-key filter,
   * source, in that order); a generated prefix (`KSTREAM-...-<10 digits>`, a generated store name)
   * takes the generated names, any other prefix names them `<topic>-sink`, `-filter`, `-source`.
   */
  repartitionNames(prefix: string): { topic: string; sink: string; filter: string; source: string } {
    const topic = prefix.endsWith('-repartition') ? prefix : `${prefix}-repartition`;
    const sink = this.newName('KSTREAM-SINK');
    const filter = this.newName('KSTREAM-FILTER');
    const source = this.newName('KSTREAM-SOURCE');
    if (/^KSTREAM.*-[0-9]{10}$/.test(prefix)) return { topic, sink, filter, source };
    return { topic, sink: `${topic}-sink`, filter: `${topic}-filter`, source: `${topic}-source` };
  }

  addSource(source: Omit<SourceDraft, 'kind' | 'children'>): void {
    for (const topic of source.topics) assertTopicName(topic);
    if (source.deadLetterTopic !== undefined) assertTopicName(source.deadLetterTopic);
    this.nodes.push({ kind: 'source', ...source, children: [] });
  }

  addProcessor(
    name: string,
    parents: readonly string[],
    supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>,
    stores: readonly string[] = [],
  ): void {
    this.nodes.push({ kind: 'processor', name, supplier, stores: [...stores], parents: [...parents], children: [] });
    this.connect(parents, name);
  }

  addTopicSink(sink: Omit<TopicSinkDraft, 'kind'>): void {
    if (sink.topic !== undefined || sink.topicExtractor === undefined) assertTopicName(sink.topic as string);
    this.nodes.push({ kind: 'topic-sink', ...sink });
    this.connect(sink.parents, sink.name);
  }

  addExternalSink(sink: Omit<ExternalSinkDraft, 'kind'>): void {
    this.nodes.push({ kind: 'external-sink', ...sink });
    this.connect(sink.parents, sink.name);
  }

  addStore(store: StoreSpec): void {
    this.stores.push(store);
  }

  addGlobalStore(global: Omit<GlobalStoreDraft, 'position'>): void {
    assertTopicName(global.topic);
    this.globals.push({ ...global, position: this.nodes.length });
  }

  /** Puts two nodes in one sub-topology (hence one task per partition: co-partitioned), as a shared store does in Kafka Streams. */
  unite(a: string, b: string): void {
    this.united.push([a, b]);
  }

  private connect(parents: readonly string[], child: string): void {
    for (const parent of parents) {
      // The most recent node of that name: a duplicate name is reported by build(), not here.
      const node = this.nodes.findLast((n) => n.name === parent);
      if (node === undefined || (node.kind !== 'source' && node.kind !== 'processor')) {
        throw new TopologyError(`Node "${parent}" cannot have children`);
      }
      node.children.push(child);
    }
  }

  build(): Topology {
    this.validateNames();
    this.validateSerdes();
    const localStores = new Map(this.stores.map((s) => [s.name, s]));
    const globalStores = new Set(this.globals.map((g) => g.storeName));
    this.validateStoreReferences(localStores, globalStores);

    const groups = this.groupNodes();
    // Sub-topologies and global stores share one numbering, in declaration order, as in Kafka.
    // A global store added when N nodes existed comes before node N: positions 2N-1 and 2N.
    const entries: { position: number; make: (id: number) => SubTopologySpec | GlobalStoreSpec }[] = [
      ...groups.map((group) => ({
        position: 2 * this.nodes.indexOf(group[0]),
        make: (id: number) => this.subTopology(id, group, localStores, globalStores),
      })),
      ...this.globals.map(({ position, ...global }) => ({
        position: 2 * position - 1,
        make: (id: number): GlobalStoreSpec => ({ id, ...global }),
      })),
    ];
    entries.sort((a, b) => a.position - b.position);
    const subTopologies: SubTopologySpec[] = [];
    const globalSpecs: GlobalStoreSpec[] = [];
    entries.forEach((entry, id) => {
      const spec = entry.make(id);
      if ('nodes' in spec) subTopologies.push(spec);
      else globalSpecs.push(spec);
    });
    this.validateStoreOwnership(subTopologies);
    this.validateSourceTopics(subTopologies);
    return new Topology(subTopologies, globalSpecs);
  }

  private validateNames(): void {
    const seen = new Set<string>();
    for (const name of [...this.nodes.map((n) => n.name), ...this.globals.flatMap((g) => [g.sourceName, g.processorName])]) {
      if (seen.has(name)) throw new TopologyError(`Processor name "${name}" is used by more than one node`);
      seen.add(name);
    }
    const stores = new Set<string>();
    for (const name of [...this.stores.map((s) => s.name), ...this.globals.map((g) => g.storeName)]) {
      if (stores.has(name)) throw new TopologyError(`Store "${name}" is added more than once`);
      stores.add(name);
    }
    // A global topic feeds one store and nothing else. A stream topic may be read by several
    // sources in different sub-topologies: each runs in its own consumer group, with its own
    // progress (validateSourceTopics checks they do not share one).
    const readers = new Map<string, string>();
    const streamSources = this.nodes.flatMap((n) => (n.kind === 'source' ? n.topics.map((t) => ({ topic: t, name: n.name })) : []));
    for (const g of this.globals) {
      const other = readers.get(g.topic) ?? streamSources.find((s) => s.topic === g.topic)?.name;
      if (other !== undefined) {
        throw new TopologyError(`Topic "${g.topic}" is read by more than one source (${other}, ${g.sourceName})`);
      }
      readers.set(g.topic, g.sourceName);
    }
  }

  private validateSourceTopics(subTopologies: readonly SubTopologySpec[]): void {
    for (const sub of subTopologies) {
      const readers = new Map<string, string>();
      for (const node of sub.nodes) {
        if (node.kind !== 'source') continue;
        for (const topic of node.topics) {
          const other = readers.get(topic);
          if (other !== undefined) {
            throw new TopologyError(`Topic "${topic}" is read by more than one source of sub-topology ${sub.id} (${other}, ${node.name})`);
          }
          readers.set(topic, node.name);
        }
      }
    }
  }

  private validateSerdes(): void {
    for (const node of this.nodes) {
      if (node.kind !== 'source' && node.kind !== 'topic-sink') continue;
      const part = node.keySerde === undefined ? 'key' : node.valueSerde === undefined ? 'value' : undefined;
      if (part === undefined) continue;
      if (node.kind === 'source') {
        throw new TopologyError(`Source "${node.name}" (topics: [${node.topics.join(', ')}]) has no ${part} serde`);
      }
      if (node.internal) {
        throw new TopologyError(
          `Repartition topic "${node.topic}" has no ${part} serde: pass { ${part} } to groupBy() or groupByKey()`,
        );
      }
      throw new TopologyError(
        `Sink "${node.name}" to topic "${node.topic ?? '(chosen by its extractor)'}" has no ${part} serde: pass { ${part} } to to(); the stream's own serde is unknown after an operator that changes the ${part}`,
      );
    }
  }

  private validateStoreReferences(local: ReadonlyMap<string, StoreSpec>, global: ReadonlySet<string>): void {
    for (const node of this.nodes) {
      if (node.kind !== 'processor') continue;
      for (const store of node.stores) {
        if (!local.has(store) && !global.has(store)) {
          throw new TopologyError(
            `Processor "${node.name}" uses store "${store}", which was never added (use StreamsBuilder.addStateStore)`,
          );
        }
      }
    }
  }

  /** Connected components of the processor graph; topics (repartition or not) do not connect. */
  private groupNodes(): NodeDraft[][] {
    const parent = new Map<string, string>(this.nodes.map((n) => [n.name, n.name]));
    const find = (name: string): string => {
      let root = name;
      while (parent.get(root) !== root) root = parent.get(root) as string;
      parent.set(name, root);
      return root;
    };
    for (const node of this.nodes) {
      if (node.kind === 'source' || node.kind === 'processor') {
        for (const child of node.children) parent.set(find(child), find(node.name));
      }
    }
    for (const [a, b] of this.united) parent.set(find(a), find(b));
    const groups = new Map<string, NodeDraft[]>();
    for (const node of this.nodes) {
      const root = find(node.name);
      const group = groups.get(root);
      if (group) group.push(node);
      else groups.set(root, [node]);
    }
    return [...groups.values()];
  }

  private subTopology(
    id: number,
    group: readonly NodeDraft[],
    localStores: ReadonlyMap<string, StoreSpec>,
    globalStores: ReadonlySet<string>,
  ): SubTopologySpec {
    const nodes: NodeSpec[] = group.map((node) => {
      switch (node.kind) {
        case 'source':
          return { ...node, keySerde: node.keySerde!, valueSerde: node.valueSerde!, children: [...node.children] };
        case 'topic-sink':
          return { ...node, keySerde: node.keySerde!, valueSerde: node.valueSerde! };
        case 'processor':
          return { ...node, children: [...node.children] };
        case 'external-sink':
          return node;
      }
    });
    const sourceTopics = group.flatMap((n) => (n.kind === 'source' ? n.topics : []));
    const sinkTopics = group.flatMap((n) => (n.kind === 'topic-sink' && n.topic !== undefined ? [n.topic] : []));
    const internalTopics = group.flatMap((n) =>
      n.kind === 'source' && n.internal ? n.topics : n.kind === 'topic-sink' && n.internal && n.topic !== undefined ? [n.topic] : [],
    );
    const storeNames = [...new Set(group.flatMap((n) => (n.kind === 'processor' ? n.stores : [])))];
    return {
      id,
      nodes,
      sourceTopics,
      sinkTopics: [...new Set(sinkTopics)],
      internalTopics: [...new Set(internalTopics)],
      stores: storeNames.filter((s) => localStores.has(s)).map((s) => localStores.get(s)!),
      globalStores: storeNames.filter((s) => globalStores.has(s)),
    };
  }

  private validateStoreOwnership(subTopologies: readonly SubTopologySpec[]): void {
    const owner = new Map<string, number>();
    for (const sub of subTopologies) {
      for (const store of sub.stores) {
        const other = owner.get(store.name);
        if (other !== undefined) {
          throw new TopologyError(
            `Store "${store.name}" is used by sub-topologies ${other} and ${sub.id}; a local store belongs to one sub-topology`,
          );
        }
        owner.set(store.name, sub.id);
      }
    }
  }
}
