// Frozen in time: takes Kysely<any> so later schema changes never rewrite this migration.
import { sql, type Kysely } from 'kysely';

/**
 * Mails leave the workflows (issue 9): every system mail is written, rendered, into `mails` in the
 * same transaction as the transition or order that owes it, and any worker delivers it from there
 * (runtime/mail-dispatcher.ts). The row is also the mail's record for operators: pending (with
 * attempts and the last error), sent, or skipped with the reason. The sent-log `mail_log` it
 * replaces is carried over as sent rows.
 *
 * Module switches get their outbox too: `told_revision` is the last revision whose fan-out was
 * started; the worker's relay starts the fan-out of any switch beyond it (rows so far: told).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mails')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    // The deployment's task queue: the workers of one deployment deliver its mails.
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'uuid')
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'sent', 'skipped')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('lease_token', 'uuid')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('last_error_kind', 'text')
    .addColumn('skipped_reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .addColumn('send_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // What a dispatcher claims: the due mails of its queue, oldest first.
  await sql`create index mails_due_idx on mails (queue, next_attempt_at) where state = 'pending'`.execute(db);
  await sql`create index mails_connection_idx on mails (connection_id) where connection_id is not null`.execute(db);
  await sql`insert into mails (message_id, queue, connection_id, template, recipient, language, subject, body, state, attempts, created_at, sent_at, send_count)
    select message_id, '', connection_id, template, recipient, language, subject, '', 'sent', send_count, sent_at, sent_at, send_count from mail_log`.execute(db);
  await db.schema.dropTable('mail_log').execute();

  await db.schema.alterTable('contract_modules').addColumn('told_revision', 'integer').execute();
  await sql`update contract_modules set told_revision = revision`.execute(db);
  await sql`alter table contract_modules alter column told_revision set not null, alter column told_revision set default 0`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contract_modules').dropColumn('told_revision').execute();
  await db.schema
    .createTable('mail_log')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('connection_id', 'uuid')
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull())
    .addColumn('send_count', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await sql`insert into mail_log select message_id, connection_id, template, recipient, language, subject, sent_at, send_count from mails where state = 'sent'`.execute(db);
  await db.schema.dropTable('mails').execute();
}
