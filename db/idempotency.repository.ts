/**
 * Idempotency records (docs/architecture.md "HTTP API"). A row is claimed `in_progress` by the first request
 * and becomes `done` with the recorded answer. A 5xx answer is not recorded: the row stays
 * `in_progress` with `status_code` set, which marks it released — a retry takes it over and reuses
 * its `minted_id`, so the retry converges on the same connection id and Temporal update id.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, IdempotencyRecord } from './schema.ts';

export interface IdempotencyClaim {
  principal: string;
  key: string;
  requestHash: string;
  mintedId: string;
}

export interface ClaimOptions {
  /** Rows older than this are forgotten (24 h). */
  ttlMs: number;
  /** An `in_progress` row not touched for this long belongs to a crashed process: take it over. */
  leaseMs: number;
}

export type ClaimResult =
  | { claimed: true; record: IdempotencyRecord }
  | { claimed: false; record: IdempotencyRecord };

const ago = (ms: number) => sql<Date>`now() - ${ms} * interval '1 millisecond'`;

export async function claimIdempotencyKey(
  db: Kysely<Database>,
  claim: IdempotencyClaim,
  options: ClaimOptions,
): Promise<ClaimResult> {
  const { principal, key } = claim;
  // One statement (it runs on every command): a new key is inserted, an expired one is taken
  // afresh as if it had never been used; a live one returns nothing and is looked at below.
  const fresh = {
    request_hash: claim.requestHash,
    state: 'in_progress' as const,
    status_code: null,
    response_body: null,
    minted_id: claim.mintedId,
    updated_at: sql<Date>`now()`,
  };
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({ principal, key, ...fresh })
    .onConflict((oc) =>
      oc
        .columns(['principal', 'key'])
        // created_at is read-only for every other writer (schema.ts); here the key starts a new life.
        .doUpdateSet({ ...fresh, created_at: sql<Date>`now()` } as typeof fresh)
        .where('idempotency_keys.created_at', '<', ago(options.ttlMs)),
    )
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { claimed: true, record: inserted };

  // One UPDATE decides between concurrent retries: the row lock lets exactly one of them match.
  const takenOver = await db
    .updateTable('idempotency_keys')
    .set({ status_code: null, updated_at: sql`now()` })
    .where('principal', '=', principal)
    .where('key', '=', key)
    .where('state', '=', 'in_progress')
    .where('request_hash', '=', claim.requestHash)
    .where((eb) => eb.or([eb('status_code', 'is not', null), eb('updated_at', '<', ago(options.leaseMs))]))
    .returningAll()
    .executeTakeFirst();
  if (takenOver) return { claimed: true, record: takenOver };

  const existing = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('principal', '=', principal)
    .where('key', '=', key)
    .executeTakeFirst();
  // Deleted between our statements (only by a purge): claim again.
  if (!existing) return claimIdempotencyKey(db, claim, options);
  return { claimed: false, record: existing };
}

/** Records the answer (2xx and 4xx): from now on the same request gets it back. */
export async function recordIdempotentResponse(
  db: Kysely<Database>,
  principal: string,
  key: string,
  statusCode: number,
  body: unknown,
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({
      state: 'done',
      status_code: statusCode,
      // jsonb parameter as text: pg would turn a top-level array into a Postgres array.
      response_body: body === undefined || body === null ? null : JSON.stringify(body),
      updated_at: sql`now()`,
    })
    .where('principal', '=', principal)
    .where('key', '=', key)
    .execute();
}

/** After a 5xx: the outcome is unknown; keep the row (and its minted id) for the retry. */
export async function releaseIdempotencyKey(
  db: Kysely<Database>,
  principal: string,
  key: string,
  statusCode: number,
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status_code: statusCode, updated_at: sql`now()` })
    .where('principal', '=', principal)
    .where('key', '=', key)
    .where('state', '=', 'in_progress')
    .execute();
}

/** Housekeeping: forgets records older than the TTL. Returns how many were deleted. */
export async function purgeExpiredIdempotencyKeys(db: Kysely<Database>, ttlMs: number): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', ago(ttlMs)).executeTakeFirst();
  return Number(result.numDeletedRows);
}
