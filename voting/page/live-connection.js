// The live page's connection to the feed: WebSocket /v1/elections/:id/live, or SSE
// /v1/elections/:id/events when a WebSocket cannot be opened; reconnects with exponential backoff
// and jitter. Free of the DOM (the constructors and timers are passed in) so that Node tests can drive it.
import { backoffDelay } from './live-model.js';

/** After this many failed attempts in a row the state says "offline" (it still retries, at the longest delay). */
export const OFFLINE_AFTER_ATTEMPTS = 6;

/**
 * Opens the connection and keeps it open until stop(). Calls onMessage(text) for every message and
 * onState({state, transport, retryInMs, reason}) on every change; state is "connecting", "live",
 * "reconnecting" or "offline". A connection counts as established at its first message (the feed
 * sends a snapshot on connect), so a server that accepts and closes at once backs off as well.
 */
export function connectLive(o) {
  const WS = o.WebSocket;
  const ES = o.EventSource;
  const setTimer = o.setTimeout ?? setTimeout;
  const clearTimer = o.clearTimeout ?? clearTimeout;
  const random = o.random ?? Math.random;
  let transport = WS !== undefined ? 'websocket' : 'sse';
  let attempt = 0;
  let current = null; // {close()}
  let timer = null;
  let stopped = false;
  let state = '';

  const report = (next, extra = {}) => {
    state = next;
    o.onState({ state: next, transport, ...extra });
  };

  const scheduleRetry = (reason) => {
    if (stopped) return;
    const delay = backoffDelay(attempt, random, o.backoff);
    attempt++;
    report(attempt >= OFFLINE_AFTER_ATTEMPTS || o.isOffline?.() === true ? 'offline' : 'reconnecting', { retryInMs: delay, reason });
    timer = setTimer(() => {
      timer = null;
      open();
    }, delay);
  };

  // One attempt: the preferred transport, then SSE when a WebSocket fails before it ever opened.
  const open = () => {
    if (stopped) return;
    if (state === '') report('connecting');
    if (transport === 'websocket') openWebSocket();
    else openSse(false);
  };

  const established = () => {
    attempt = 0;
    if (state !== 'live') report('live');
  };

  const openWebSocket = () => {
    let ws;
    try {
      ws = new WS(o.wsUrl);
    } catch {
      openSse(true);
      return;
    }
    let opened = false;
    let done = false;
    const finish = (reason) => {
      if (done) return;
      done = true;
      current = null;
      if (stopped) return;
      if (!opened && ES !== undefined) openSse(true);
      else scheduleRetry(reason);
    };
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      established();
      o.onMessage(e.data);
    };
    ws.onerror = () => {
      try {
        ws.close();
      } catch {
        // already closing
      }
      finish(undefined);
    };
    ws.onclose = (e) => finish(e.reason || undefined);
    current = { close: () => ws.close(1000, 'page closed') };
  };

  // fallback: this attempt's WebSocket failed; if SSE works, stay on SSE for the page's lifetime.
  const openSse = (fallback) => {
    if (ES === undefined) {
      scheduleRetry(undefined);
      return;
    }
    let es;
    try {
      es = new ES(o.sseUrl);
    } catch {
      scheduleRetry(undefined);
      return;
    }
    let done = false;
    const onData = (e) => {
      if (fallback) transport = 'sse';
      established();
      o.onMessage(e.data);
    };
    es.onmessage = onData;
    es.addEventListener?.('snapshot', onData);
    // EventSource would reconnect by itself, without backoff: close it and retry like a WebSocket.
    es.onerror = () => {
      if (done) return;
      done = true;
      es.close();
      current = null;
      scheduleRetry(undefined);
    };
    current = { close: () => es.close() };
  };

  open();
  return {
    /** Retries at once (the "retry now" button, or the browser coming back online). */
    retryNow() {
      if (stopped || timer === null) return;
      clearTimer(timer);
      timer = null;
      open();
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimer(timer);
      current?.close();
    },
    get state() {
      return state;
    },
  };
}
