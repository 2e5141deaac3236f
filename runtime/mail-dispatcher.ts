/**
 * Delivers the mail outbox (db/mail.repository.ts) over SMTP. Every worker process runs one; they
 * share the work through `FOR UPDATE SKIP LOCKED` claims with a lease (runtime/outbox-loop.ts), so
 * any number of them may run, a dead one's mails are taken over when its lease runs out, and no
 * mail ever waits behind another: each is claimed, retried and backed off on its own. Workflows
 * never wait for SMTP (docs/reliability.md "Mails").
 */
import type { Kysely } from 'kysely';
import type { Transporter } from 'nodemailer';
import { judgeSmtpFailure } from '../activities/mailer.ts';
import { claimDueMails, markRetry, markSentMany, markSkipped, renewLease, type MailRow } from '../db/mail.repository.ts';
import type { Database } from '../db/schema.ts';
import { groupCommit } from './group-commit.ts';
import { startOutboxLoop, throttled, untilRecorded, whileLeased } from './outbox-loop.ts';

export interface MailDispatcherOptions {
  db: Kysely<Database>;
  mailer: Transporter;
  mailFrom: string;
  /** The deployment's task queue: the mails its activities enqueued. */
  queue: string;
  /** Pause between passes that found nothing due. */
  intervalMs?: number;
  /** How long a claim lasts unless renewed (renewed every third of it while sending). */
  leaseMs?: number;
  /** Mails in flight at once (each claimed as a slot frees up). */
  batch?: number;
}

export interface MailDispatcher {
  /** Ends the loop; resolves once the mails in flight are settled. */
  stop(): Promise<void>;
}

/** 1 s, 2 s, 4 s … up to a minute, ±20 % so that a backlog does not retry in lockstep. */
export function retryDelayMs(attempts: number, random = Math.random): number {
  const base = Math.min(60_000, 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export function startMailDispatcher(options: MailDispatcherOptions, log: (message: string) => void = console.log): MailDispatcher {
  const { db, queue, intervalMs = 500, leaseMs = 60_000, batch = 8 } = options;
  const quietLog = throttled(log, 60_000);
  // Mails accepted while another's record is being written are recorded together in the next one.
  const markSent = groupCommit((messageIds: string[]) => markSentMany(db, messageIds));

  const deliver = (mail: MailRow, token: string): Promise<void> =>
    whileLeased(() => renewLease(db, mail.message_id, token, leaseMs), leaseMs, async () => {
      let accepted = false;
      try {
        await options.mailer.sendMail({
          from: options.mailFrom,
          to: mail.recipient,
          subject: mail.subject,
          text: mail.body,
          messageId: mail.message_id,
          headers: { 'X-CCX-Template': mail.template, 'Content-Language': mail.language },
        });
        accepted = true;
        // The relay has the mail: recording that must outlast a short database outage, or it goes twice.
        await untilRecorded(
          () => markSent(mail.message_id),
          (wait) => loop.stopped && wait >= 5000,
          (err) => quietLog('record', `mail ${mail.message_id} sent but not yet recorded (${String(err)}); retrying`),
        );
      } catch (err) {
        if (accepted) return; // not recorded: the claim runs out and the mail goes again (same Message-ID)
        const verdict = judgeSmtpFailure(err);
        if (verdict.outcome === 'skip') {
          log(`mail ${mail.message_id} to ${mail.recipient} skipped: ${verdict.reason}`);
          await markSkipped(db, mail.message_id, token, verdict.reason).catch(() => {});
          return;
        }
        const delayMs = retryDelayMs(mail.attempts);
        quietLog(
          verdict.kind,
          verdict.kind === 'configuration'
            ? `MAIL DELIVERY FAILING — the relay refuses our setup (check SMTP_URL, credentials, CCX_MAIL_FROM); retrying: ${verdict.error}`
            : `mail delivery: ${verdict.error}; retrying`,
        );
        await markRetry(db, mail.message_id, token, { error: verdict.error, kind: verdict.kind, delayMs }).catch(() => {});
      }
    });

  const loop = startOutboxLoop({
    name: 'mail dispatcher',
    intervalMs,
    batch,
    claim: (token, limit) => claimDueMails(db, queue, token, limit, leaseMs),
    deliver,
    log: quietLog,
  });
  return { stop: () => loop.stop() };
}
