/**
 * The one way tests wait: poll a condition until it holds or a deadline passes. Never a fixed
 * sleep: a sleep either wastes time or is too short on a loaded machine, and proves nothing.
 */
export interface PollOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/**
 * Resolves once `check` returns true. `what` names the condition in the timeout error; as a
 * function it is evaluated then, so it can report the last value seen. A check that throws ends the
 * wait at once (use that for "this overshot: a vote was counted twice").
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string | (() => string), options: PollOptions = {}): Promise<void> {
  const { timeoutMs = 60_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
