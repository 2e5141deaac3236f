/**
 * Delivers the mail outbox (db/mail.repository.ts) over SMTP. Every worker process runs one; they
 * share the work through `FOR UPDATE SKIP LOCKED` claims with a lease, so any number of them may
 * run, a dead one's mails are taken over when its lease runs out, and no mail ever waits behind
 * another: each is claimed, retried and backed off on its own. Workflows never wait for SMTP
 * (docs/reliability.md "Mails").
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Transporter } from 'nodemailer';
import { judgeSmtpFailure } from '../activities/mailer.ts';
import { claimDueMails, markRetry, markSent, markSkipped, renewLease, type MailRow } from '../db/mail.repository.ts';
import type { Database } from '../db/schema.ts';

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
  let stopped = false;
  const quietLog = throttled(log, 60_000);

  const deliver = async (mail: MailRow, token: string): Promise<void> => {
    // Renewed while the relay takes its time: a slow relay is not mistaken for a dead claimer.
    const renewal = setInterval(() => void renewLease(db, mail.message_id, token, leaseMs).catch(() => {}), Math.max(100, leaseMs / 3));
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
      await recordSent(mail.message_id);
    } catch (err) {
      if (accepted) return; // recordSent gave up: the claim runs out and the mail goes again (same Message-ID)
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
    } finally {
      clearInterval(renewal);
    }
  };

  // The relay has the mail: recording that must outlast a short database outage, or the mail goes twice.
  const recordSent = async (messageId: string): Promise<void> => {
    for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
      try {
        return await markSent(db, messageId);
      } catch (err) {
        if (stopped && wait >= 5000) throw err;
        quietLog('record', `mail ${messageId} sent but not yet recorded (${String(err)}); retrying`);
        await sleep(wait);
      }
    }
  };

  // Up to `batch` mails in flight; a free slot is filled at once, so a slow relay answer for one
  // mail never holds the others (no pass waits for its whole batch).
  const inFlight = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  const sleepUntilWoken = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      wake = () => (clearTimeout(timer), resolve());
    });

  const loop = (async () => {
    while (!stopped) {
      const free = batch - inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const token = randomUUID();
          const mails = await claimDueMails(db, queue, token, free, leaseMs);
          claimed = mails.length;
          for (const mail of mails) {
            const delivery: Promise<void> = deliver(mail, token)
              .catch(() => {}) // settled in the outbox row; nothing to do here
              .finally(() => {
              inFlight.delete(delivery);
              wake?.();
            });
            inFlight.add(delivery);
          }
        } catch (err) {
          quietLog('claim', `mail dispatcher: ${err instanceof Error ? err.message : String(err)} (retrying)`);
        }
      }
      // More may be due at once when the claim was full; otherwise wait for the interval or a free slot.
      if (stopped || (claimed > 0 && claimed === free)) continue;
      await sleepUntilWoken(intervalMs);
    }
    await Promise.all(inFlight);
  })();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** At most one line per topic and interval: an outage of minutes must not flood the log. */
function throttled(log: (message: string) => void, intervalMs: number) {
  const last = new Map<string, number>();
  return (topic: string, message: string) => {
    const now = Date.now();
    if (now - (last.get(topic) ?? 0) < intervalMs) return;
    last.set(topic, now);
    log(message);
  };
}
