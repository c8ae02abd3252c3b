/** Why a connection was refused: the feed's total or the client address's share is used up. */
export type LimitRefusal = 'too-many-connections';

/**
 * Open streams (WebSocket and SSE together), in total and per client address, so that one address
 * cannot take the whole feed and the whole feed cannot take more than the process can hold. The
 * per-address map only holds addresses with open streams, so it is bounded by the total.
 */
export class ConnectionLimits {
  readonly #maxTotal: number;
  readonly #maxPerIp: number;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  constructor(maxTotal: number, maxPerIp: number) {
    this.#maxTotal = maxTotal;
    this.#maxPerIp = maxPerIp;
  }

  get total(): number {
    return this.#total;
  }

  /** Takes a slot for `ip`, or says why not. Every taken slot is given back once with `release`. */
  take(ip: string): LimitRefusal | undefined {
    const mine = this.#perIp.get(ip) ?? 0;
    if (this.#total >= this.#maxTotal || mine >= this.#maxPerIp) return 'too-many-connections';
    this.#perIp.set(ip, mine + 1);
    this.#total++;
    return undefined;
  }

  release(ip: string): void {
    const mine = this.#perIp.get(ip) ?? 0;
    if (mine <= 1) this.#perIp.delete(ip);
    else this.#perIp.set(ip, mine - 1);
    this.#total = Math.max(0, this.#total - 1);
  }
}
