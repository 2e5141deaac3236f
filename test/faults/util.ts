/** Small helpers of the fault suite: time, ports, polling, logging. */
import { createServer } from 'node:net';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const started = Date.now();
/** Seconds since the suite started, for log lines and timelines. */
export const elapsed = (at = Date.now()) => ((at - started) / 1000).toFixed(1).padStart(6);

export function log(message: string): void {
  console.log(`[faults ${elapsed()}s] ${message}`);
}

/** A TCP port nobody listens on right now (bound once on 127.0.0.1, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it answers true (→ true) or `timeoutMs` passes (→ false). Errors count as "not yet". */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
