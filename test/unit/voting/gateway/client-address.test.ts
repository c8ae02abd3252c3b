import { describe, expect, it } from 'vitest';
import { clientAddress, normaliseAddress } from '../../../../voting/gateway/client-address.js';

describe('clientAddress', () => {
  const proxies = new Set(['10.0.0.1', '10.0.0.2']);

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientAddress('203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
  });

  it('takes the rightmost address that is not a trusted proxy', () => {
    expect(clientAddress('10.0.0.1', '1.1.1.1, 198.51.100.7, 10.0.0.2', proxies)).toBe('198.51.100.7');
  });

  it('falls back to the peer when the header is empty, all proxies, or not addresses', () => {
    expect(clientAddress('10.0.0.1', '', proxies)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '10.0.0.2', proxies)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', 'evil, 198.51.100.7, junk', proxies)).toBe('10.0.0.1');
  });

  it('reads IPv4-mapped IPv6 peers as IPv4', () => {
    expect(normaliseAddress('0000:0000:0000:0000:0000:ffff:7f00:0001')).toBe('127.0.0.1');
    expect(normaliseAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normaliseAddress('2001:db8::1')).toBe('2001:db8::1');
  });
});
