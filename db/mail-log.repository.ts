/**
 * The sent-log of system mails, keyed by Message-ID (docs/architecture.md "Workflows"). A row means "this
 * mail went out at least once"; the mail activity checks it before sending.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, MailLogTable } from './schema.ts';

export type MailLogRow = Selectable<MailLogTable>;

export interface MailLogEntry {
  messageId: string;
  connectionId: string | null;
  template: string;
  recipient: string;
  language: 'de' | 'en';
  subject: string;
  sentAt: Date | string;
}

export async function findMail(db: Kysely<Database>, messageId: string): Promise<MailLogRow | undefined> {
  return db.selectFrom('mail_log').selectAll().where('message_id', '=', messageId).executeTakeFirst();
}

/** Logging the same Message-ID again means it went out again (two attempts raced past findMail): count it. */
export async function logMail(db: Kysely<Database>, entry: MailLogEntry): Promise<void> {
  await db
    .insertInto('mail_log')
    .values({
      message_id: entry.messageId,
      connection_id: entry.connectionId,
      template: entry.template,
      recipient: entry.recipient,
      language: entry.language,
      subject: entry.subject,
      sent_at: entry.sentAt,
    })
    .onConflict((oc) =>
      oc.column('message_id').doUpdateSet((eb) => ({
        send_count: eb('mail_log.send_count', '+', 1),
        sent_at: eb.ref('excluded.sent_at'),
      })),
    )
    .execute();
}
