/**
 * Every Temporal call of one request shares one deadline, counted from when the request arrived —
 * so the whole answer, with authentication and database reads before it, stays within the
 * budget; past it the outcome is unknown and the API answers 503 "retry with the same request"
 * (docs/architecture.md "Errors"). The arrival time travels with the request's async context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { outcomeUnknown } from './errors.ts';

const arrival = new AsyncLocalStorage<{ at: number }>();

/** Records each request's arrival for the calls it makes (an onRequest hook of the whole app). */
export function trackRequestArrival(app: FastifyInstance): void {
  app.addHook('onRequest', (_request, _reply, done) => arrival.run({ at: Date.now() }, done));
}

/** The budget counts from now: a command admitted after waiting its turn (api/admission.ts) gets all of it. */
export function restartTemporalBudget(): void {
  const store = arrival.getStore();
  if (store) store.at = Date.now();
}

/**
 * Runs `fn` under the request's deadline. The gRPC deadline bounds each call; the timer bounds the
 * whole — the client's own reconnect backoff while the server is down may otherwise outlast it.
 * A call still in flight when the timer fires goes on in the background: it carries the request's
 * update id (or workflow id), so the caller's retry converges with it.
 */
export function withTemporalDeadline<T>(
  deps: { temporal: { client: Client }; temporalDeadlineMs: number },
  fn: (deadline: number) => Promise<T>,
): Promise<T> {
  const deadline = (arrival.getStore()?.at ?? Date.now()) + deps.temporalDeadlineMs;
  const call = deps.temporal.client.withDeadline(deadline, () => fn(deadline));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(outcomeUnknown()), Math.max(0, deadline - Date.now()) + 100);
  });
  call.catch(() => {}); // settled after the timer: nobody is waiting for it any more
  return Promise.race([call, expired]).finally(() => clearTimeout(timer));
}
