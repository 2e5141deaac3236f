/**
 * The mail outbox (docs/reliability.md "Mails"). A mail is inserted, rendered, in the transaction
 * that owes it — keyed by its Message-ID, so a retried transaction adds nothing — and delivered by
 * whichever dispatcher claims it first: `FOR UPDATE SKIP LOCKED` hands each due row to one claimer,
 * and a lease that the claimer renews while it talks SMTP keeps it there; a claimer that died
 * leaves a lease that runs out, and the mail is claimed again.
 */
import { sql, type Kysely, type QueryCreator, type Selectable } from 'kysely';
import { decodeTimeCursor, encodeTimeCursor } from './id-cursor.ts';
import { claimDue, renewLease as renewOutboxLease } from './outbox.ts';
import type { Database, MailErrorKind, MailTable } from './schema.ts';

export type MailRow = Selectable<MailTable>;

export interface NewMail {
  messageId: string;
  queue: string;
  connectionId: string | null;
  template: string;
  recipient: string;
  language: 'de' | 'en';
  subject: string;
  body: string;
}

export async function enqueueMails(db: Kysely<Database>, mails: readonly NewMail[]): Promise<void> {
  if (mails.length === 0) return;
  await mailsInsert(db, mails).execute();
}

/** The insert of enqueueMails, for a caller that puts it into a statement of its own (a data-modifying CTE). */
export const mailsInsert = (db: QueryCreator<Database>, mails: readonly NewMail[]) =>
  db
    .insertInto('mails')
    .values(
      mails.map((m) => ({
        message_id: m.messageId,
        queue: m.queue,
        connection_id: m.connectionId,
        template: m.template,
        recipient: m.recipient,
        language: m.language,
        subject: m.subject,
        body: m.body,
        state: 'pending' as const,
      })),
    )
    .onConflict((oc) => oc.column('message_id').doNothing());

export async function findMail(db: Kysely<Database>, messageId: string): Promise<MailRow | undefined> {
  return db.selectFrom('mails').selectAll().where('message_id', '=', messageId).executeTakeFirst();
}

/** Claims up to `limit` due mails of `queue` for `token` (db/outbox.ts). */
export const claimDueMails = (db: Kysely<Database>, queue: string, token: string, limit: number, leaseMs: number): Promise<MailRow[]> =>
  claimDue(db, 'mails', queue, token, limit, leaseMs);

/** Keeps the claim while the SMTP conversation lasts; false when it was lost (expired and taken). */
export const renewLease = (db: Kysely<Database>, messageId: string, token: string, leaseMs: number): Promise<boolean> =>
  renewOutboxLease(db, 'mails', messageId, token, leaseMs);

/**
 * The relay accepted them. Counted even if our claim was lost meanwhile: they did go out. Several
 * in one statement: the dispatcher records the mails accepted at about the same time together
 * (runtime/group-commit.ts).
 */
export async function markSentMany(db: Kysely<Database>, messageIds: readonly string[]): Promise<void> {
  if (messageIds.length === 0) return;
  await db
    .updateTable('mails')
    .set((eb) => ({ state: 'sent', sent_at: sql<Date>`now()`, send_count: eb('send_count', '+', 1), lease_token: null, lease_until: null, last_error: null, last_error_kind: null }))
    .where('message_id', '=', (eb) => eb.fn.any(eb.val(messageIds)))
    .execute();
}

/** The recipient was refused for good: the mail is not sent, and the reason stays on record. */
export async function markSkipped(db: Kysely<Database>, messageId: string, token: string, reason: string): Promise<void> {
  await db
    .updateTable('mails')
    .set({ state: 'skipped', skipped_reason: reason, lease_token: null, lease_until: null })
    .where('message_id', '=', messageId)
    .where('lease_token', '=', token)
    .where('state', '=', 'pending')
    .execute();
}

/** Failed for now: due again after `delayMs`, with the error kept for operators. */
export async function markRetry(
  db: Kysely<Database>,
  messageId: string,
  token: string,
  failure: { error: string; kind: MailErrorKind; delayMs: number },
): Promise<void> {
  await db
    .updateTable('mails')
    .set({
      last_error: failure.error.slice(0, 1000),
      last_error_kind: failure.kind,
      next_attempt_at: sql<Date>`now() + ${`${failure.delayMs} milliseconds`}::interval`,
      lease_token: null,
      lease_until: null,
    })
    .where('message_id', '=', messageId)
    .where('lease_token', '=', token)
    .where('state', '=', 'pending')
    .execute();
}

export interface MailBacklog {
  pending: number;
  /** Pending mails whose last attempt failed. */
  retrying: number;
  oldestPendingAt: Date | null;
  /** The most recent failure among pending mails. */
  lastError: { kind: MailErrorKind; message: string } | null;
}

export async function mailBacklog(db: Kysely<Database>, queue: string): Promise<MailBacklog> {
  const counts = await db
    .selectFrom('mails')
    .select((eb) => [
      eb.fn.countAll<string>().as('pending'),
      eb.fn.count<string>('last_error').as('retrying'),
      eb.fn.min('created_at').as('oldest'),
    ])
    .where('queue', '=', queue)
    .where('state', '=', 'pending')
    .executeTakeFirstOrThrow();
  const last = await db
    .selectFrom('mails')
    .select(['last_error', 'last_error_kind'])
    .where('queue', '=', queue)
    .where('state', '=', 'pending')
    .where('last_error', 'is not', null)
    .orderBy('next_attempt_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return {
    pending: Number(counts.pending),
    retrying: Number(counts.retrying),
    oldestPendingAt: counts.oldest ? new Date(counts.oldest) : null,
    lastError: last?.last_error && last.last_error_kind ? { kind: last.last_error_kind, message: last.last_error } : null,
  };
}

export interface MailFilter {
  messageId?: string;
  connectionId?: string;
  state?: MailRow['state'];
  cursor?: string;
  limit: number;
}

/** Newest first, for operators (GET /v1/mails); keyset on (created_at, message_id). */
export async function listMails(db: Kysely<Database>, filter: MailFilter): Promise<{ items: MailRow[]; nextCursor: string | null }> {
  let query = db.selectFrom('mails').selectAll().select(sql<string>`created_at::text`.as('cursor_created_at'));
  if (filter.messageId) query = query.where('message_id', '=', filter.messageId);
  if (filter.connectionId) query = query.where('connection_id', '=', filter.connectionId);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.cursor !== undefined) {
    // Postgres text keeps microseconds; a JS Date would round them and skip or repeat rows.
    const [createdAt, messageId] = decodeTimeCursor(filter.cursor);
    query = query.where(sql<boolean>`(created_at, message_id) < (${createdAt}::timestamptz, ${messageId})`);
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('message_id', 'desc').limit(filter.limit + 1).execute();
  const last = rows.length > filter.limit ? rows[filter.limit - 1] : undefined;
  return {
    items: rows.slice(0, filter.limit).map(({ cursor_created_at: _c, ...row }) => row),
    nextCursor: last ? encodeTimeCursor(last.cursor_created_at, last.message_id) : null,
  };
}
