/**
 * Which database errors an activity retries. Temporal retries a failed activity for ever by
 * default (our database preset never gives up: an outage must not lose a transition), so an error
 * retrying cannot fix — a constraint violation, bad data, a statement Postgres refuses — must be
 * turned into a non-retryable failure, or the run waits for ever with nothing visible but attempt
 * counts. Applied to every activity by one interceptor of the worker (runtime/worker.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * SQLSTATE classes that say "this statement can never succeed as sent": 22 data exception, 23
 * integrity constraint violation, 42 syntax error or access rule violation, 0A feature not
 * supported, 21 cardinality violation, 2B/2F/38/39 routine errors. Connection loss (08), too
 * many connections (53), shutdown (57), serialization failures and deadlocks (40) are retried.
 */
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23', '42', '0A', '21', '2B', '2F', '38', '39']);

export const DATABASE_REJECTED = 'DATABASE_REJECTED';

/** The non-retryable failure for a permanent database error, or undefined for anything else. */
export function permanentDatabaseFailure(err: unknown): ApplicationFailure | undefined {
  if (err instanceof ApplicationFailure) return undefined; // decided by the activity already
  const e = err as { code?: unknown; message?: unknown; constraint?: unknown; table?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (!/^[0-9A-Z]{5}$/.test(code) || !PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2))) return undefined;
  const where = [e?.table && `table ${String(e.table)}`, e?.constraint && `constraint ${String(e.constraint)}`].filter(Boolean).join(', ');
  return ApplicationFailure.create({
    type: DATABASE_REJECTED,
    message: `the database refused this for good (SQLSTATE ${code}${where ? `, ${where}` : ''}): ${String(e?.message ?? err)}`,
    nonRetryable: true,
    cause: err instanceof Error ? err : undefined,
  });
}

class PermanentDatabaseErrors implements ActivityInboundCallsInterceptor {
  async execute(input: Parameters<NonNullable<ActivityInboundCallsInterceptor['execute']>>[0], next: Parameters<NonNullable<ActivityInboundCallsInterceptor['execute']>>[1]): Promise<unknown> {
    try {
      return await next(input);
    } catch (err) {
      throw permanentDatabaseFailure(err) ?? err;
    }
  }
}

export const permanentDatabaseErrors: ActivityInterceptorsFactory = () => ({ inbound: new PermanentDatabaseErrors() });
