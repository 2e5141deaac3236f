/**
 * What the two outboxes — `mails` (db/mail.repository.ts) and `callback_deliveries`
 * (db/callback.repository.ts) — share: rows of a deployment's `queue`, `pending` until settled,
 * due at `next_attempt_at`, claimed by a dispatcher with a lease token and `lease_until`
 * (FOR UPDATE SKIP LOCKED, so claimers never wait for each other and a dead one's rows come back
 * when its lease runs out), each claim counted in `attempts`.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from './schema.ts';

/** Each outbox table and its key column. */
const KEY = { mails: 'message_id', callback_deliveries: 'id' } as const;
type Outbox = keyof typeof KEY;

const leaseUntil = (leaseMs: number) => sql<Date>`now() + ${`${leaseMs} milliseconds`}::interval`;

/**
 * At most `max` rows in flight per value of `column` (for callbacks: per connection), counted over
 * all dispatchers: one slow receiver then holds `max` slots, never a dispatcher's whole batch.
 */
export interface ClaimFairness {
  column: 'connection_id';
  max: number;
}

/** Claims up to `limit` due rows of `queue` for `token`, the longest due first. */
export async function claimDue<T extends Outbox>(
  db: Kysely<Database>,
  table: T,
  queue: string,
  token: string,
  limit: number,
  leaseMs: number,
  fairness?: ClaimFairness,
): Promise<Array<Selectable<Database[T]>>> {
  const [t, key] = [sql.table(table), sql.ref(KEY[table])];
  const due = sql`queue = ${queue} and state = 'pending' and next_attempt_at <= now() and (lease_until is null or lease_until < now())`;
  if (fairness === undefined) {
    const { rows } = await sql<Selectable<Database[T]>>`
      update ${t} set lease_token = ${token}, lease_until = ${leaseUntil(leaseMs)}, attempts = attempts + 1
      where ${key} in (select ${key} from ${t} where ${due} order by next_attempt_at limit ${limit} for update skip locked)
      returning *`.execute(db);
    return rows;
  }
  // Candidates: the longest due rows of groups with room left. A group at its limit is passed
  // over, not waited for, however many due rows it holds; the in-flight count reads at most `max`
  // index entries. Then at most the room of each group among them.
  const group = sql.ref(fairness.column);
  const { rows } = await sql<Selectable<Database[T]>>`
    with candidates as (
      select d.${key} as claim_key, d.${group} as claim_group, d.next_attempt_at, busy.room
      from ${t} d, lateral (
        select ${fairness.max} - count(*) as room from (
          select 1 from ${t} other where other.${group} = d.${group} and other.state = 'pending' and other.lease_until >= now()
          limit ${fairness.max}) in_flight
      ) busy
      where ${due} and busy.room > 0
      order by d.next_attempt_at
      limit ${limit * 4}
      for update of d skip locked
    ), fair as (
      select claim_key from (
        select claim_key, next_attempt_at, room, row_number() over (partition by claim_group order by next_attempt_at) as n from candidates
      ) ranked
      where n <= room
      order by next_attempt_at
      limit ${limit}
    )
    update ${t} set lease_token = ${token}, lease_until = ${leaseUntil(leaseMs)}, attempts = attempts + 1
    where ${key} in (select claim_key from fair)
    returning *`.execute(db);
  return rows;
}

/** Keeps a claim while its delivery lasts; false when it was lost (expired and taken, or settled). */
export async function renewLease(db: Kysely<Database>, table: Outbox, id: string, token: string, leaseMs: number): Promise<boolean> {
  const res = await sql`
    update ${sql.table(table)} set lease_until = ${leaseUntil(leaseMs)}
    where ${sql.ref(KEY[table])} = ${id} and lease_token = ${token} and state = 'pending'`.execute(db);
  return Number(res.numAffectedRows ?? 0) > 0;
}
