import type { KStream } from './kstream.js';
import type { BranchRoute } from './operators/branch.js';
import { TopologyError } from './topology-error.js';

type Flatten<T> = { [P in keyof T]: T[P] };

/** Creates the branch node and one child per branch; supplied by KStream.split. */
export type MaterializeBranches<K, V> = (
  routes: readonly BranchRoute<K, V>[],
  defaultChild: string | undefined,
  children: readonly (readonly [branch: string, node: string])[],
) => Record<string, KStream<K, V>>;

/**
 * Kafka's BranchedKStream. Branch names become the keys of the returned object (typed), and the
 * child nodes are named `<split name>-<branch name>`. A type-guard predicate narrows its branch.
 */
export class BranchedKStream<K, V, Branches extends object = {}> {
  readonly #materialize: MaterializeBranches<K, V>;
  readonly #splitName: string;
  readonly #routes: readonly (BranchRoute<K, V> & { readonly branch: string })[];

  /** @internal */
  constructor(
    materialize: MaterializeBranches<K, V>,
    splitName: string,
    routes: readonly (BranchRoute<K, V> & { readonly branch: string })[] = [],
  ) {
    this.#materialize = materialize;
    this.#splitName = splitName;
    this.#routes = routes;
  }

  branch<N extends string, VB extends V>(
    predicate: (key: K, value: V) => value is VB,
    name: N,
  ): BranchedKStream<K, V, Branches & { [P in N]: KStream<K, VB> }>;
  branch<N extends string>(
    predicate: (key: K, value: V) => boolean,
    name: N,
  ): BranchedKStream<K, V, Branches & { [P in N]: KStream<K, V> }>;
  branch(predicate: (key: K, value: V) => boolean, name: string): BranchedKStream<K, V, object> {
    if (typeof name !== 'string' || name.length === 0) throw new TopologyError('A branch needs a non-empty name');
    if (this.#routes.some((r) => r.branch === name)) {
      throw new TopologyError(`Branch "${name}" is defined twice in split "${this.#splitName}"`);
    }
    const route = { predicate, child: `${this.#splitName}-${name}`, branch: name };
    return new BranchedKStream(this.#materialize, this.#splitName, [...this.#routes, route]);
  }

  /** Records that match no branch go to this one (named `default` unless given). */
  defaultBranch<N extends string = 'default'>(name?: N): Flatten<Branches & { [P in N]: KStream<K, V> }> {
    const branch = name ?? 'default';
    if (this.#routes.some((r) => r.branch === branch)) {
      throw new TopologyError(`Branch "${branch}" is defined twice in split "${this.#splitName}"`);
    }
    const child = `${this.#splitName}-${branch}`;
    return this.#done(child, [[branch, child]]) as Flatten<Branches & { [P in N]: KStream<K, V> }>;
  }

  /** Records that match no branch are dropped. */
  noDefaultBranch(): Flatten<Branches> {
    return this.#done(undefined, []) as Flatten<Branches>;
  }

  #done(defaultChild: string | undefined, extra: readonly (readonly [string, string])[]): Record<string, KStream<K, V>> {
    const children = [...this.#routes.map((r) => [r.branch, r.child] as const), ...extra];
    return this.#materialize(this.#routes, defaultChild, children);
  }
}
