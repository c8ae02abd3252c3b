import type { GlobalStoreSpec, NodeSpec, SubTopologySpec } from './topology-spec.js';

export type DescribedNode =
  | { readonly type: 'source'; readonly name: string; readonly topics: readonly string[]; readonly successors: readonly string[] }
  | {
      readonly type: 'processor';
      readonly name: string;
      readonly stores: readonly string[];
      readonly successors: readonly string[];
      readonly predecessors: readonly string[];
    }
  | {
      readonly type: 'sink';
      readonly name: string;
      /** Undefined for `to(extractor)`, whose `extractor` is the function's name. */
      readonly topic: string | undefined;
      readonly extractor?: string;
      readonly predecessors: readonly string[];
    }
  | { readonly type: 'external-sink'; readonly name: string; readonly sink: string; readonly predecessors: readonly string[] };

export interface DescribedSubTopology {
  readonly id: number;
  readonly nodes: readonly DescribedNode[];
}

export interface DescribedGlobalStore {
  readonly id: number;
  readonly store: string;
  readonly source: { readonly name: string; readonly topics: readonly string[] };
  readonly processor: { readonly name: string; readonly stores: readonly string[] };
}

export interface TopologyDescriptionJson {
  readonly subTopologies: readonly DescribedSubTopology[];
  readonly globalStores: readonly DescribedGlobalStore[];
}

function names(list: readonly string[]): string {
  return list.length === 0 ? 'none' : list.join(', ');
}

function nodeText(node: DescribedNode): string {
  switch (node.type) {
    case 'source':
      return `Source: ${node.name} (topics: [${node.topics.join(', ')}])\n      --> ${names(node.successors)}`;
    case 'processor':
      return `Processor: ${node.name} (stores: [${node.stores.join(', ')}])\n      --> ${names(node.successors)}\n      <-- ${names(node.predecessors)}`;
    case 'sink':
      return node.topic === undefined
        ? `Sink: ${node.name} (extractor class: ${node.extractor ?? 'anonymous'})\n      <-- ${names(node.predecessors)}`
        : `Sink: ${node.name} (topic: ${node.topic})\n      <-- ${names(node.predecessors)}`;
    case 'external-sink':
      return `Sink: ${node.name} (sink: ${node.sink})\n      <-- ${names(node.predecessors)}`;
  }
}

/** Kafka's order inside a sub-topology: larger sub-trees first, then by name. */
function kafkaOrder(nodes: readonly NodeSpec[]): NodeSpec[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const size = new Map<string, number>();
  const sizeOf = (node: NodeSpec): number => {
    const known = size.get(node.name);
    if (known !== undefined) return known;
    const children = node.kind === 'source' || node.kind === 'processor' ? node.children : [];
    const total = 1 + children.reduce((sum, child) => sum + sizeOf(byName.get(child)!), 0);
    size.set(node.name, total);
    return total;
  };
  return [...nodes].sort((a, b) => sizeOf(b) - sizeOf(a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function describeNode(node: NodeSpec): DescribedNode {
  switch (node.kind) {
    case 'source':
      return { type: 'source', name: node.name, topics: node.topics, successors: node.children };
    case 'processor':
      return { type: 'processor', name: node.name, stores: node.stores, successors: node.children, predecessors: node.parents };
    case 'topic-sink':
      return node.topic === undefined
        ? { type: 'sink', name: node.name, topic: undefined, extractor: node.topicExtractor?.name || 'anonymous', predecessors: node.parents }
        : { type: 'sink', name: node.name, topic: node.topic, predecessors: node.parents };
    case 'external-sink':
      return { type: 'external-sink', name: node.name, sink: node.sink.name, predecessors: node.parents };
  }
}

/** `Topology.describe()`: Kafka Streams' text (toString), plain data (toJSON) and a Mermaid flowchart. */
export class TopologyDescription {
  readonly subTopologies: readonly DescribedSubTopology[];
  readonly globalStores: readonly DescribedGlobalStore[];

  constructor(subTopologies: readonly SubTopologySpec[], globalStores: readonly GlobalStoreSpec[]) {
    this.subTopologies = subTopologies.map((sub) => ({ id: sub.id, nodes: kafkaOrder(sub.nodes).map(describeNode) }));
    this.globalStores = globalStores.map((g) => ({
      id: g.id,
      store: g.storeName,
      source: { name: g.sourceName, topics: [g.topic] },
      processor: { name: g.processorName, stores: [g.storeName] },
    }));
  }

  /** Byte for byte the layout of Kafka Streams' TopologyDescription, quirks included. */
  toString(): string {
    const parts = [
      ...this.subTopologies.map((sub) => ({
        id: sub.id,
        text: `Sub-topology: ${sub.id}\n${sub.nodes.map((n) => `    ${nodeText(n)}\n`).join('')}\n`,
      })),
      ...this.globalStores.map((g) => ({
        id: g.id,
        text:
          `Sub-topology: ${g.id} for global store (will not generate tasks)\n` +
          `    ${nodeText({ type: 'source', name: g.source.name, topics: g.source.topics, successors: [g.processor.name] })}\n` +
          `    ${nodeText({ type: 'processor', name: g.processor.name, stores: g.processor.stores, successors: [], predecessors: [g.source.name] })}\n`,
      })),
    ].sort((a, b) => a.id - b.id);
    return `Topologies:\n ${parts.map((p) => `  ${p.text}`).join('')}`;
  }

  toJSON(): TopologyDescriptionJson {
    return { subTopologies: this.subTopologies, globalStores: this.globalStores };
  }

  /**
   * A Mermaid `flowchart LR`: one subgraph per sub-topology; topics as parallelograms, stores as
   * cylinders (dotted links), external sinks as subroutines.
   */
  toMermaid(): string {
    const counters = { n: 0, t: 0, s: 0, x: 0 };
    const ids = new Map<string, string>();
    const outside: { key: string; shape: (id: string) => string }[] = [];
    const quote = (text: string): string => `"${text.replace(/"/g, '#quot;')}"`;
    const id = (kind: keyof typeof counters, name: string): string => {
      const key = `${kind}:${name}`;
      let value = ids.get(key);
      if (value === undefined) {
        value = `${kind}${counters[kind]++}`;
        ids.set(key, value);
        if (kind === 't') outside.push({ key, shape: (i) => `${i}[/${quote(name)}/]` });
        if (kind === 's') outside.push({ key, shape: (i) => `${i}[(${quote(name)})]` });
        if (kind === 'x') outside.push({ key, shape: (i) => `${i}[[${quote(name)}]]` });
      }
      return value;
    };
    const groups = [
      ...this.subTopologies.map((sub) => ({ id: sub.id, title: `Sub-topology: ${sub.id}`, nodes: sub.nodes })),
      ...this.globalStores.map((g) => ({
        id: g.id,
        title: `Sub-topology: ${g.id} (global store)`,
        nodes: [
          { type: 'source', name: g.source.name, topics: g.source.topics, successors: [g.processor.name] },
          { type: 'processor', name: g.processor.name, stores: g.processor.stores, successors: [], predecessors: [g.source.name] },
        ] satisfies DescribedNode[],
      })),
    ].sort((a, b) => a.id - b.id);
    const lines = ['flowchart LR'];
    const edges: string[] = [];
    for (const group of groups) {
      lines.push(`  subgraph sub${group.id}[${quote(group.title)}]`);
      for (const node of group.nodes) lines.push(`    ${id('n', node.name)}[${quote(node.name)}]`);
      lines.push('  end');
      for (const node of group.nodes) {
        const self = id('n', node.name);
        if (node.type === 'source') for (const topic of node.topics) edges.push(`  ${id('t', topic)} --> ${self}`);
        if (node.type === 'source' || node.type === 'processor') {
          for (const child of node.successors) edges.push(`  ${self} --> ${id('n', child)}`);
        }
        if (node.type === 'processor') for (const store of node.stores) edges.push(`  ${self} -.- ${id('s', store)}`);
        if (node.type === 'sink') edges.push(`  ${self} --> ${id('t', node.topic ?? `(${node.extractor ?? 'extractor'})`)}`);
        if (node.type === 'external-sink') edges.push(`  ${self} --> ${id('x', node.sink)}`);
      }
    }
    for (const { key, shape } of outside) lines.push(`  ${shape(ids.get(key)!)}`);
    return `${[...lines, ...edges].join('\n')}\n`;
  }
}
