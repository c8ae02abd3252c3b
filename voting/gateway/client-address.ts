import { isIP } from 'node:net';

/**
 * The client's address: the peer's, unless the peer is a configured trusted proxy, in which case
 * the rightmost `X-Forwarded-For` entry that is not itself a trusted proxy (the leftmost entries are
 * whatever the client chose to send, so they never decide a rate limit).
 */
export function clientAddress(peer: string, forwardedFor: string, trustedProxies: ReadonlySet<string>): string {
  if (!trustedProxies.has(peer) || forwardedFor === '') return peer;
  const hops = forwardedFor.split(',').map((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (isIP(hop) === 0) return peer;
    if (!trustedProxies.has(hop)) return hop;
  }
  return peer;
}

/** uWS gives IPv4 peers as IPv4-mapped IPv6 text; compare them as plain IPv4. */
export function normaliseAddress(text: string): string {
  return text.startsWith('0000:0000:0000:0000:0000:ffff:') || text.startsWith('::ffff:') ? ipv4FromMapped(text) : text;
}

function ipv4FromMapped(text: string): string {
  const tail = text.slice(text.lastIndexOf(':') + 1);
  if (tail.includes('.')) return tail;
  // 0000:...:ffff:7f00:0001 form: the last two groups are the IPv4 address in hex.
  const groups = text.split(':');
  const hi = parseInt(groups[groups.length - 2], 16);
  const lo = parseInt(groups[groups.length - 1], 16);
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}
