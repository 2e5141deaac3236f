/**
 * Every Temporal call of one request shares one deadline, counted from when the request arrived —
 * so the whole answer, with authentication and database reads before it, stays within the
 * budget; past it the outcome is unknown and the API answers 503 "retry with the same request"
 * (docs/architecture.md "Errors"). The arrival time travels with the request's async context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';

const arrival = new AsyncLocalStorage<number>();

/** Records each request's arrival for the calls it makes (an onRequest hook of the whole app). */
export function trackRequestArrival(app: FastifyInstance): void {
  app.addHook('onRequest', (_request, _reply, done) => arrival.run(Date.now(), done));
}

export function withTemporalDeadline<T>(
  deps: { temporal: { client: Client }; temporalDeadlineMs: number },
  fn: (deadline: number) => Promise<T>,
): Promise<T> {
  const deadline = (arrival.getStore() ?? Date.now()) + deps.temporalDeadlineMs;
  return deps.temporal.client.withDeadline(deadline, () => fn(deadline));
}
