import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

export interface BranchRoute<K, V> {
  readonly predicate: (key: K, value: V) => boolean;
  readonly child: string;
}

/** `split()`: each record goes to the first branch whose predicate matches, else the default, else nowhere. */
class BranchProcessor<K, V> implements Processor<K, V, K, V> {
  private context!: ProcessorContext<K, V>;
  constructor(
    private readonly routes: readonly BranchRoute<K, V>[],
    private readonly defaultChild: string | undefined,
  ) {}
  init(context: ProcessorContext<K, V>): void {
    this.context = context;
  }
  process(record: StreamRecord<K, V>): void | Promise<void> {
    for (const route of this.routes) {
      if (route.predicate(record.key, record.value)) return this.context.forward(record, route.child);
    }
    if (this.defaultChild !== undefined) return this.context.forward(record, this.defaultChild);
  }
}

export function branchProcessor<K, V>(
  routes: readonly BranchRoute<K, V>[],
  defaultChild: string | undefined,
): ProcessorSupplier<K, V, K, V> {
  return () => new BranchProcessor(routes, defaultChild);
}
