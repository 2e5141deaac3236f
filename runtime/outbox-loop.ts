/**
 * The loop both outbox dispatchers run (runtime/mail-dispatcher.ts, runtime/callback-dispatcher.ts;
 * their rows and claims in db/outbox.ts): claim what is due with a fresh lease token, up to
 * `batch` items in flight, a free slot filled within `coalesceMs` — so a slow receiver for one item
 * never holds the others and no pass waits for its whole batch — and sleep for `intervalMs` when nothing more
 * is due. What an item's delivery does, and how it settles its row, is the dispatcher's.
 */
import { randomUUID } from 'node:crypto';

export interface OutboxLoopOptions<T> {
  /** Named in the log line when a claim fails. */
  name: string;
  intervalMs: number;
  batch: number;
  /**
   * How long a freed slot waits for others before the next claim (default 25 ms): under load the
   * slots free one by one, and a claim per slot was a statement per item; a short wait claims for
   * several at once. Nothing waits behind another item's delivery either way.
   */
  coalesceMs?: number;
  /** Claims up to `limit` due items for `token` (FOR UPDATE SKIP LOCKED, with a lease). */
  claim(token: string, limit: number): Promise<T[]>;
  /** Delivers one claimed item and settles its row; a rejection is left to the item's lease. */
  deliver(item: T, token: string): Promise<void>;
  /** Throttled log (topic, message). */
  log: (topic: string, message: string) => void;
}

export interface OutboxLoop {
  /** Whether stop() was called: a delivery still recording its outcome may give up sooner. */
  readonly stopped: boolean;
  /** Ends the loop; resolves once the items in flight are settled. */
  stop(): Promise<void>;
}

export function startOutboxLoop<T>(o: OutboxLoopOptions<T>): OutboxLoop {
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  // A wake-up that comes while the loop is busy claiming is kept for its next sleep, not lost.
  let wakeRequested = false;
  let wake: (() => void) | undefined;
  const requestWake = () => {
    wakeRequested = true;
    wake?.();
  };
  const sleepUntilWoken = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = undefined;
        wakeRequested = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      wake = done;
      if (wakeRequested) done();
    });
  let slotTimer: NodeJS.Timeout | undefined;
  const slotFreed = () => {
    if (slotTimer) return;
    slotTimer = setTimeout(() => {
      slotTimer = undefined;
      requestWake();
    }, o.coalesceMs ?? 25);
    slotTimer.unref();
  };

  const loop = (async () => {
    while (!stopped) {
      const free = o.batch - inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const token = randomUUID();
          const items = await o.claim(token, free);
          claimed = items.length;
          for (const item of items) {
            const running: Promise<void> = o
              .deliver(item, token)
              .catch(() => {}) // settled in the outbox row, or left to its lease
              .finally(() => {
                inFlight.delete(running);
                slotFreed();
              });
            inFlight.add(running);
          }
        } catch (err) {
          o.log('claim', `${o.name}: ${err instanceof Error ? err.message : String(err)} (retrying)`);
        }
      }
      // More may be due at once when the claim was full; otherwise wait for the interval or a free slot.
      if (stopped || (claimed > 0 && claimed === free)) continue;
      await sleepUntilWoken(o.intervalMs);
    }
    await Promise.all(inFlight);
  })();

  return {
    get stopped() {
      return stopped;
    },
    async stop() {
      stopped = true;
      clearTimeout(slotTimer);
      requestWake();
      await loop;
    },
  };
}

/**
 * Runs `work` while renewing the item's lease every third of it: a slow receiver is not mistaken
 * for a dead claimer (a failed renewal is left to the next one, or to the lease running out).
 */
export async function whileLeased<R>(renew: () => Promise<unknown>, leaseMs: number, work: () => Promise<R>): Promise<R> {
  const renewal = setInterval(() => void renew().catch(() => {}), Math.max(100, leaseMs / 3));
  try {
    return await work();
  } finally {
    clearInterval(renewal);
  }
}

/**
 * Records what a receiver already has (an SMTP relay's acceptance, a callback's 2xx): it must
 * outlast a short database outage, or the item goes out twice. Retries with backoff (250 ms … 5 s)
 * until it succeeds, or rethrows when `giveUp(wait)` says so (e.g. shutting down and already at
 * the longest wait).
 */
export async function untilRecorded<R>(record: () => Promise<R>, giveUp: (waitMs: number) => boolean, onRetry: (err: unknown) => void): Promise<R> {
  for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
    try {
      return await record();
    } catch (err) {
      if (giveUp(wait)) throw err;
      onRetry(err);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** At most one line per topic and interval: an outage of minutes must not flood the log. */
export function throttled(log: (message: string) => void, intervalMs: number) {
  const last = new Map<string, number>();
  return (topic: string, message: string) => {
    const now = Date.now();
    if (now - (last.get(topic) ?? 0) < intervalMs) return;
    last.set(topic, now);
    log(message);
  };
}
