import { headerEntries } from './consumed-record.js';
import type { RecordHeaders } from './kafka/driver.js';
import type { RawRecord } from './raw-record.js';

/**
 * A dead letter's headers (DESIGN section 3, `votes-dlq`): the input's own, exactly as consumed
 * (order, repeated names, any name), then `error`, `source-topic`, `source-partition` and
 * `source-offset`. Appended, not merged: an input's own `error` must not take the reason's place,
 * and readers take the last `error`.
 */
export function deadLetterHeaders(raw: RawRecord, reason: string): RecordHeaders {
  return [
    ...headerEntries(raw.headers),
    ['error', Buffer.from(reason, 'utf8')],
    ['source-topic', Buffer.from(raw.topic, 'utf8')],
    ['source-partition', Buffer.from(String(raw.partition), 'utf8')],
    ['source-offset', Buffer.from(String(raw.offset), 'utf8')],
  ];
}
