/**
 * Every Temporal call of one request shares one deadline; past it the outcome is unknown and the
 * API answers 503 "retry with the same request" (docs/architecture.md "Errors").
 */
import type { Client } from '@temporalio/client';

export function withTemporalDeadline<T>(
  deps: { temporal: { client: Client }; temporalDeadlineMs: number },
  fn: (deadline: number) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + deps.temporalDeadlineMs;
  return deps.temporal.client.withDeadline(deadline, () => fn(deadline));
}
