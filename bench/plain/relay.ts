/**
 * The baseline's outbox relay: claims due mails (`FOR UPDATE SKIP LOCKED`, so several relays could
 * share the work), sends each with nodemailer — one SMTP conversation per mail, like the product —
 * and marks it sent in the same transaction. A mail that fails stays due and is tried next pass.
 */
import nodemailer from 'nodemailer';
import type pg from 'pg';
import { startPassLoop } from './pass-loop.ts';

export function startOutboxRelay(pool: pg.Pool, smtpUrl: string, from: string, { batch = 8, idleMs = 500 } = {}) {
  const transport = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 });
  const loop = startPassLoop(pool, { batch, idleMs }, async (c) => {
    const { rows } = await c.query(
      `select message_id, recipient, subject, body from plain.outbox where sent_at is null order by created_at limit $1 for update skip locked`,
      [batch],
    );
    const sent = await Promise.all(
      rows.map((m) =>
        transport.sendMail({ from, to: m.recipient, subject: m.subject, text: m.body, messageId: m.message_id }).then(
          () => m.message_id as string,
          () => null,
        ),
      ),
    );
    await c.query(`update plain.outbox set sent_at = now() where message_id = any($1)`, [sent.filter((id) => id !== null)]);
    return rows.length;
  });
  return {
    async stop() {
      await loop.stop();
      transport.close();
    },
  };
}
