import { describe, expect, it } from 'vitest';
import { connectLive, OFFLINE_AFTER_ATTEMPTS, type StateChange } from '../../../../voting/page/live-connection.js';

/** Fakes of the browser's WebSocket and EventSource that the test opens, feeds and fails by hand. */
class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: (() => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.onopen?.();
  }
  message(data: string): void {
    this.onmessage?.({ data });
  }
  fail(): void {
    this.onerror?.();
    this.onclose?.({ code: 1006, reason: '' });
  }
  serverClose(reason: string): void {
    this.onclose?.({ code: 1013, reason });
  }
}

class FakeEventSource {
  static all: FakeEventSource[] = [];
  onmessage: ((e: { data: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
  }
  addEventListener(): void {}
  close(): void {
    this.closed = true;
  }
}

function harness() {
  FakeSocket.all = [];
  FakeEventSource.all = [];
  const states: StateChange[] = [];
  const messages: string[] = [];
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const live = connectLive({
    wsUrl: 'ws://feed/v1/elections/e1/live',
    sseUrl: '/v1/elections/e1/events',
    WebSocket: FakeSocket,
    EventSource: FakeEventSource,
    onMessage: (t) => messages.push(t),
    onState: (s) => states.push(s),
    random: () => 0.5,
    setTimeout: (fn, ms) => {
      const t = { fn, ms };
      timers.push(t);
      return t;
    },
    clearTimeout: (t) => timers.splice(timers.indexOf(t as (typeof timers)[number]), 1),
  });
  const fire = () => timers.shift()!.fn();
  return { live, states, messages, timers, fire, ws: () => FakeSocket.all[FakeSocket.all.length - 1], es: () => FakeEventSource.all[FakeEventSource.all.length - 1] };
}

describe('the live page connection (voting/page/live-connection.js)', () => {
  it('is live at the first message, and reconnects with growing delays when the feed goes away', () => {
    const h = harness();
    expect(h.states.map((s) => s.state)).toEqual(['connecting']);
    h.ws().open();
    h.ws().message('s1');
    expect(h.live.state).toBe('live');
    expect(h.messages).toEqual(['s1']);
    // The feed goes away: reconnecting; WebSocket and SSE both refused, delays grow.
    h.ws().serverClose('going away');
    expect(h.states[h.states.length - 1]).toMatchObject({ state: 'reconnecting', retryInMs: 375, reason: 'going away' });
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      h.fire();
      h.ws().fail(); // not opened: the same attempt tries SSE
      h.es().onerror!();
      delays.push(h.timers[0].ms);
    }
    expect(delays).toEqual([750, 1500, 3000]);
    // The feed is back: the next attempt is a WebSocket again, and its first snapshot makes it live.
    h.fire();
    expect(h.ws().url).toBe('ws://feed/v1/elections/e1/live');
    h.ws().open();
    h.ws().message('s2');
    expect(h.live.state).toBe('live');
    // The delays start over after a success.
    h.ws().fail();
    expect(h.timers[0].ms).toBe(375);
    h.live.stop();
    expect(h.timers).toEqual([]);
  });

  it('falls back to SSE when a WebSocket cannot be opened but the events stream can, and stays on it', () => {
    const h = harness();
    h.ws().fail();
    expect(h.es().url).toBe('/v1/elections/e1/events');
    h.es().onmessage!({ data: 's1' });
    expect(h.states[h.states.length - 1]).toEqual({ state: 'live', transport: 'sse' });
    h.es().onerror!();
    expect(h.es().closed).toBe(true); // no EventSource reconnection of its own: our backoff
    const sockets = FakeSocket.all.length;
    h.fire();
    expect(FakeSocket.all.length).toBe(sockets);
    expect(FakeEventSource.all.length).toBe(2);
  });

  it('says offline after several failed attempts, keeps retrying, and retries at once on demand', () => {
    const h = harness();
    for (let i = 0; i < OFFLINE_AFTER_ATTEMPTS; i++) {
      h.ws().fail();
      h.es().onerror!();
      if (i < OFFLINE_AFTER_ATTEMPTS - 1) h.fire();
    }
    expect(h.live.state).toBe('offline');
    expect(h.timers).toHaveLength(1);
    const before = FakeSocket.all.length;
    h.live.retryNow();
    expect(h.timers).toHaveLength(0);
    expect(FakeSocket.all.length).toBe(before + 1);
  });

  it('backs off from a server that accepts and closes without a snapshot', () => {
    const h = harness();
    h.ws().open();
    h.ws().serverClose('too many connections');
    h.fire();
    h.ws().open();
    h.ws().serverClose('too many connections');
    expect(h.timers[0].ms).toBe(750);
    expect(h.live.state).toBe('reconnecting');
  });
});
