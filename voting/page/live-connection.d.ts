// Types of live-connection.js for the Node tests (the page itself is plain JS, no build step).
export const OFFLINE_AFTER_ATTEMPTS: number;
export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'offline';
export interface StateChange {
  readonly state: LiveState;
  readonly transport: 'websocket' | 'sse';
  readonly retryInMs?: number;
  readonly reason?: string;
}
export interface LiveOptions {
  readonly wsUrl: string;
  readonly sseUrl: string;
  readonly WebSocket?: new (url: string) => unknown;
  readonly EventSource?: new (url: string) => unknown;
  readonly onMessage: (text: string) => void;
  readonly onState: (change: StateChange) => void;
  readonly isOffline?: () => boolean;
  readonly random?: () => number;
  readonly backoff?: { baseMs?: number; maxMs?: number };
  readonly setTimeout?: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout?: (timer: unknown) => void;
}
export interface LiveConnection {
  retryNow(): void;
  stop(): void;
  readonly state: LiveState | '';
}
export function connectLive(options: LiveOptions): LiveConnection;
