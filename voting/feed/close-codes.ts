/**
 * The WebSocket close codes the feed ends a stream with (4000-4999 is the application range of RFC
 * 6455; 1013 is the standard "try again later"). The reason text is the same code word the HTTP
 * errors carry, so a page can branch on either.
 */
export const FEED_CLOSE = {
  /** The client did not read its snapshots for too long: it is dropped, and may reconnect. */
  slowConsumer: { code: 4008, reason: 'slow-consumer' },
  /** The feed, or the client's address, has as many streams open as allowed. */
  tooManyConnections: { code: 1013, reason: 'too-many-connections' },
  /** The feed could not read the election from Redis. */
  unavailable: { code: 1011, reason: 'unavailable' },
  /** The feed is shutting down; reconnect (to another process, or this one once back). */
  shuttingDown: { code: 1001, reason: 'shutting-down' },
} as const;
