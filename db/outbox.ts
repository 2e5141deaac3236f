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

/** Claims up to `limit` due rows of `queue` for `token`, the longest due first. */
export async function claimDue<T extends Outbox>(
  db: Kysely<Database>,
  table: T,
  queue: string,
  token: string,
  limit: number,
  leaseMs: number,
): Promise<Array<Selectable<Database[T]>>> {
  const [t, key] = [sql.table(table), sql.ref(KEY[table])];
  const { rows } = await sql<Selectable<Database[T]>>`
    update ${t} set lease_token = ${token}, lease_until = ${leaseUntil(leaseMs)}, attempts = attempts + 1
    where ${key} in (
      select ${key} from ${t}
      where queue = ${queue} and state = 'pending' and next_attempt_at <= now()
        and (lease_until is null or lease_until < now())
      order by next_attempt_at
      limit ${limit}
      for update skip locked)
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
