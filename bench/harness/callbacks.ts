/**
 * The sources' end of `bench:purchases --callbacks` (issue 14): one HTTP receiver in the bench
 * process on 127.0.0.1, a path per stack. It answers 200 at once (a receiver that answers quickly
 * is what docs/callbacks.md asks for, so neither stack's retries are measured), checks each
 * signature (a stack that signs wrongly would deliver nothing a real source accepts), counts
 * deliveries by their id and notes when each order's first callback arrived — so the bench can
 * wait for every purchase's callback and tell how long after its answer it came.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { percentile } from './stats.ts';

/** How a stack's callbacks read: both sign `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, under their own header names. */
export interface CallbackFormat {
  idHeader: string;
  signatureHeader: string;
  orderIdOf: (payload: any) => string | undefined;
}

interface Tally {
  deliveries: Set<string>;
  /** The same delivery id again (at-least-once: allowed, but worth knowing). */
  duplicates: number;
  badSignatures: number;
  /** orderId → when its first callback arrived (performance.now() of this process). */
  arrivals: Map<string, number>;
}

export async function startCallbackReceiver<S extends string>(formats: Record<S, CallbackFormat>) {
  const secret = `bench-${randomBytes(16).toString('hex')}`;
  const tallies = new Map<string, Tally>(Object.keys(formats).map((s) => [s, { deliveries: new Set(), duplicates: 0, badSignatures: 0, arrivals: new Map() }]));
  const signedRight = (header: string | undefined, body: string) => {
    const { t, v1 } = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2))) as { t?: string; v1?: string };
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
    const given = Buffer.from(v1 ?? '', 'hex');
    return t !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      res.writeHead(200).end();
      const stack = (req.url ?? '').slice(1) as S;
      const tally = tallies.get(stack);
      if (!tally) return;
      const format = formats[stack];
      const body = Buffer.concat(chunks).toString('utf8');
      if (!signedRight(req.headers[format.signatureHeader] as string | undefined, body)) {
        tally.badSignatures++;
        return;
      }
      const id = String(req.headers[format.idHeader]);
      if (tally.deliveries.has(id)) tally.duplicates++;
      tally.deliveries.add(id);
      const orderId = format.orderIdOf(JSON.parse(body));
      if (orderId && !tally.arrivals.has(orderId)) tally.arrivals.set(orderId, at);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const tallyOf = (stack: S) => tallies.get(stack)!;
  return {
    /** What the source's invitation carries: this receiver's path for the stack, and the secret. */
    callback: (stack: S) => ({ url: `http://127.0.0.1:${port}/${stack}`, secret }),
    /** Waits (bounded) until each order has had its callback; answers the orders still without one. */
    async waitFor(stack: S, orderIds: string[], timeoutMs = 30_000): Promise<string[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const missing = orderIds.filter((id) => !tallyOf(stack).arrivals.has(id));
        if (missing.length === 0 || Date.now() > deadline) return missing;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** Deliveries so far, and the latency from each answered purchase to its first callback. */
    report(stack: S, answeredAt: Map<string, number>) {
      const t = tallyOf(stack);
      const ms = [...answeredAt].flatMap(([orderId, answered]) => (t.arrivals.has(orderId) ? [t.arrivals.get(orderId)! - answered] : []));
      return {
        delivered: t.deliveries.size,
        orders: t.arrivals.size,
        duplicates: t.duplicates,
        badSignatures: t.badSignatures,
        latencyMs: { p50: Math.round(percentile(ms, 50)), p99: Math.round(percentile(ms, 99)) },
      };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
