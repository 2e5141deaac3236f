/**
 * The change feed's table (migration 010, docs/decisions.md "Change feed"). Writers append in the
 * transaction of their change — one statement, whatever the number of events and clients; the
 * feed reads one client's rows in (xid, id) order, only those of transactions older than every
 * transaction still running: a row committed later can only sort after what a reader has seen.
 */
import { sql, type Kysely } from 'kysely';
import { enqueueMails, mailsInsert, type NewMail } from './mail.repository.ts';
import type { FeedEvent } from '../domain/event.ts';
import { InvalidCursorError } from './id-cursor.ts';
import type { Database } from './schema.ts';

/**
 * One statement: every event once per client that sees it (a JSON recordset, so no parameter
 * limit). `mails` the change owes go into the outbox in the same statement (a data-modifying CTE):
 * one round trip less on a sale, the hottest writer.
 */
export async function appendEvents(db: Kysely<Database>, events: readonly FeedEvent[], mails: readonly NewMail[] = []): Promise<void> {
  const rows = events.flatMap((e) => [...new Set(e.clientIds)].map((clientId) => ({ client_id: clientId, type: e.type, entity_id: e.entityId, data: e.data })));
  if (rows.length === 0) return enqueueMails(db, mails);
  const recordset = sql`select client_id, type, entity_id, data from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(client_id text, type text, entity_id text, data jsonb)`;
  const columns = ['client_id', 'type', 'entity_id', 'data'] as const;
  if (mails.length === 0) await db.insertInto('events').columns(columns).expression(recordset).execute();
  else await db.with('mails_owed', (q) => mailsInsert(q, mails)).insertInto('events').columns(columns).expression(recordset).execute();
}

/** A position in the feed: the writing transaction and the row. Its text is an item's `seq`. */
export interface FeedPosition {
  xid: string;
  id: string;
}

const UINT64_MAX = 18446744073709551615n;
const INT64_MAX = 9223372036854775807n;

export const encodePosition = (p: FeedPosition): string => `${p.xid}-${p.id}`;

/** What a position looks like (the route's schema says so too). */
export const POSITION_PATTERN = /^(\d{1,20})-(\d{1,19})$/;

/** A position past the largest possible one reads as the largest: nothing comes after it. */
export function decodePosition(text: string): FeedPosition {
  const match = POSITION_PATTERN.exec(text);
  if (!match) throw new InvalidCursorError();
  const clamp = (digits: string, max: bigint) => (BigInt(digits) > max ? max : BigInt(digits)).toString();
  return { xid: clamp(match[1]!, UINT64_MAX), id: clamp(match[2]!, INT64_MAX) };
}

export interface EventRecord {
  seq: string;
  type: string;
  entityId: string;
  at: Date;
  data: unknown;
}

/**
 * A client's events after `after`, oldest first. Rows of a transaction still running — or of any
 * transaction younger than the oldest one running — wait: they may commit after rows that sort
 * after them, and a reader must never have passed a row's position before the row is there.
 */
export async function listEvents(db: Kysely<Database>, q: { clientId: string; after?: FeedPosition | undefined; limit: number }): Promise<EventRecord[]> {
  let query = db
    .selectFrom('events')
    .select(['id', sql<string>`xid::text`.as('xid'), 'type', 'entity_id', 'at', 'data'])
    .where('client_id', '=', q.clientId)
    .where(sql<boolean>`xid < pg_snapshot_xmin(pg_current_snapshot())`);
  if (q.after) query = query.where(sql<boolean>`(xid, id) > (${q.after.xid}::xid8, ${q.after.id}::bigint)`);
  const rows = await query.orderBy('xid').orderBy('id').limit(q.limit).execute();
  return rows.map((r) => ({ seq: encodePosition({ xid: r.xid, id: String(r.id) }), type: r.type, entityId: r.entity_id, at: r.at, data: r.data }));
}
