import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../runtime/logger.js';

describe('logger redaction', () => {
  it('censors credentials passed by mistake, at the top level and one level down', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ destination, level: 'info' });
    log.info({ authorization: 'Bearer abc.def.ghi', headers: { authorization: 'Bearer x' }, options: { tokenSecret: 's3cr3t', adminToken: 'adm1n', password: 'pw' }, token: 't0k', voterId: 'v1' }, 'oops');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line.authorization).toBe('[redacted]');
    expect(line.headers).toEqual({ authorization: '[redacted]' });
    expect(line.options).toEqual({ tokenSecret: '[redacted]', adminToken: '[redacted]', password: '[redacted]' });
    expect(line.token).toBe('[redacted]');
    expect(line.voterId).toBe('v1');
    for (const secret of ['abc.def.ghi', 's3cr3t', 'adm1n', 't0k']) expect(lines[0]).not.toContain(secret);
  });
});
