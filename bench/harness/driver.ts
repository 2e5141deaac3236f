/**
 * The load: C concurrent callers in this process, each running its share of work items one after
 * another over real HTTP. Every state-changing request carries an Idempotency-Key, like a real
 * client; a 429 is retried after its Retry-After with the same key, up to `tries` attempts in all.
 * A request's latency is what its caller waited, retries included.
 */
import { randomUUID } from 'node:crypto';
import { percentile } from './stats.ts';

export interface Answer {
  status: number;
  body: any;
  ms: number;
  /** Attempts answered 429 before this answer. */
  busy: number;
}

export const TRIES = Number(process.env.BENCH_TRIES ?? 3);

export async function send(base: string, method: string, path: string, key: string, body?: unknown): Promise<Answer> {
  const idempotencyKey = randomUUID();
  const started = performance.now();
  let busy = 0;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        'idempotency-key': idempotencyKey,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((err: unknown) => ({ status: 0, json: async () => ({ error: String(err) }), headers: new Headers() }) as unknown as Response);
    const json = await res.json().catch(() => null);
    if (res.status === 429 && attempt < TRIES) {
      busy++;
      const after = Number(res.headers.get('retry-after'));
      await new Promise((r) => setTimeout(r, 1000 * (Number.isFinite(after) && after > 0 ? after : 1)));
      continue;
    }
    return { status: res.status, body: json, ms: performance.now() - started, busy: busy + (res.status === 429 ? 1 : 0) };
  }
}

export const ok = (a: Answer) => a.status >= 200 && a.status < 300;

export interface RunSummary {
  seconds: number;
  items: number;
  ok: number;
  failed: number;
  perSecond: number;
  /** Answers 429 seen (retried or final). */
  busy: number;
  /** How the failed items ended: "step status code" → count. */
  failures: Record<string, number>;
}

/** Runs `callers` loops of `perCaller` items each; `item(n)` does one and says how it ended. */
export async function runCallers<T extends { ok: boolean; busy: number; failure?: string }>(
  callers: number,
  perCaller: number,
  item: (n: number) => Promise<T>,
): Promise<{ results: T[]; summary: RunSummary }> {
  const results: T[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = 0; i < perCaller; i++) results.push(await item(next++));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const good = results.filter((r) => r.ok).length;
  const failures: Record<string, number> = {};
  for (const r of results) if (!r.ok) failures[r.failure ?? 'unknown'] = (failures[r.failure ?? 'unknown'] ?? 0) + 1;
  return {
    results,
    summary: { seconds, items: results.length, ok: good, failed: results.length - good, perSecond: good / seconds, busy: results.reduce((s, r) => s + r.busy, 0), failures },
  };
}

export const latency = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });

export const failureOf = (step: string, a: Answer) => `${step} ${a.status} ${a.body?.error?.code ?? ''}`.trim();
