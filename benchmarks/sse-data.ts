import type { IncomingMessage } from 'node:http';

/**
 * The `data:` payload of every event of an SSE response, in order. The feed's snapshot JSON never
 * holds a newline, so each event has one `data:` line; comments and keep-alives are skipped.
 */
export function onSseData(res: IncomingMessage, onData: (data: string) => void): void {
  res.setEncoding('utf8');
  let buffer = '';
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const at = block.indexOf('data:');
      if (at < 0) continue;
      const lineEnd = block.indexOf('\n', at);
      onData(block.slice(at + 5, lineEnd >= 0 ? lineEnd : undefined).trimStart());
    }
  });
}
