/**
 * Activities of the connection workflow: everything it does with I/O. The workflow imports only
 * `typeof` the object returned here (type-only: nothing of this file enters the sandbox).
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Kysely } from 'kysely';
import type { Transporter } from 'nodemailer';
import { touchPairs } from '../db/availability.repository.ts';
import { getPartyFacts } from '../db/client.repository.ts';
import { insertHistory, listOpenConnectionsOfCompany, upsertConnection } from '../db/connection.repository.ts';
import { findMail, logMail } from '../db/mail-log.repository.ts';
import { getActiveCompiledRuleSet } from '../db/rule-set.repository.ts';
import type { Database } from '../db/schema.ts';
import { CROSS_CLIENT_MODULE } from '../domain/connection.ts';
import type { ErrorCode } from '../domain/errors.ts';
import type { ConnectionFacts, ConnectionTransition, PartyFacts } from '../domain/connection.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { startPairFanouts } from './availability.dispatch.ts';
import { MAIL_TEMPLATES, renderMail, type MailTemplate } from './mail-templates.ts';

export interface ConnectionActivityDeps {
  db: Kysely<Database>;
  mailer: Transporter;
  mailFrom: string;
  /** To start the pair's availability fan-out after a transition (without it the relay does). */
  temporal?: { client: Client; taskQueue: string };
}

export interface SystemMail {
  connectionId: string;
  /** The connection's transition number (its view version) that caused the mail. */
  transition: number;
  template: MailTemplate;
  recipient: PartyFacts;
  other: PartyFacts;
  offerAccess: boolean;
  expiresAt: string | null;
}

/** Derived from the event, so a resend after a crash carries the same id and is recognisable. */
export function mailMessageId(connectionId: string, transition: number, template: MailTemplate): string {
  return `<${connectionId}.${transition}.${template}@ccx>`;
}

/**
 * Sends one rendered system mail and logs it under its Message-ID. A 5xx answer is a
 * non-retryable `MAIL_REJECTED`; anything else (connection, 4xx) is thrown as is and retried.
 */
export async function deliverMail(
  { db, mailer, mailFrom }: Pick<ConnectionActivityDeps, 'db' | 'mailer' | 'mailFrom'>,
  mail: { messageId: string; connectionId: string | null; template: MailTemplate; recipient: PartyFacts; subject: string; text: string },
): Promise<void> {
  const { messageId, subject, text } = mail;
  const language = mail.recipient.language;
  await mailer
    .sendMail({
      from: mailFrom,
      to: mail.recipient.email,
      subject,
      text,
      messageId,
      headers: { 'X-CCX-Template': mail.template, 'Content-Language': language },
    })
    .catch((err: { responseCode?: number; message?: string }) => {
      // 5xx: the server refuses for good (unknown mailbox, policy); retrying cannot help.
      // Anything else (connection, 4xx) is transient and retried with backoff.
      if (err.responseCode !== undefined && err.responseCode >= 500) {
        throw ApplicationFailure.create({ type: 'MAIL_REJECTED', message: `SMTP ${err.responseCode}: ${err.message}`, nonRetryable: true });
      }
      throw err;
    });
  // At least once, not exactly once (docs/architecture.md "Domain"): a crash between the SMTP acceptance
  // above and this insert leaves no log row, so the retry sends the mail again. That duplicate
  // carries the same Message-ID and is therefore recognisable; we accept it. send_count > 1
  // records the other duplicate: a timed-out attempt still sending while its retry sends too.
  await logMail(db, {
    messageId,
    connectionId: mail.connectionId,
    template: mail.template,
    recipient: mail.recipient.email,
    language,
    subject,
    sentAt: new Date(),
  });
}

const NOT_FOUND: ErrorCode = 'NOT_FOUND';

export function createConnectionActivities({ db, mailer, mailFrom, temporal }: ConnectionActivityDeps) {
  return {
    async loadConnectionFacts(input: { sourceClientId: string; targetClientId: string }): Promise<ConnectionFacts> {
      const source = await getPartyFacts(db, input.sourceClientId, CROSS_CLIENT_MODULE);
      if (!source) {
        // Retrying cannot make the source appear: the workflow was started with a bad id.
        throw ApplicationFailure.create({
          type: NOT_FOUND,
          message: `source client ${input.sourceClientId} does not exist`,
          nonRetryable: true,
        });
      }
      // An unknown target is a fact the invitation policy turns into a refusal, not an error here.
      const target = await getPartyFacts(db, input.targetClientId, CROSS_CLIENT_MODULE);
      return { source, target: target ?? null };
    },

    /**
     * Row and history entry together: the read model never shows a state without its history. A
     * transition that may change what the target's carts can sell of the source (a new row, or
     * status or offer access changed) bumps the pair's availability version in the same
     * transaction — only when the row was written, so a retried activity does not bump twice —
     * and after the commit starts the pair's fan-out (best effort: the relay retries a lost start).
     */
    async recordConnectionTransition({ view, history }: ConnectionTransition): Promise<void> {
      const pair = { sourceClientId: view.sourceClientId, targetClientId: view.targetClientId };
      const touched = await db.transaction().execute(async (trx) => {
        // Locked: a concurrent record of the same connection compares against what it wrote.
        const before = await trx.selectFrom('connections').select(['status', 'offer_access']).where('id', '=', view.id).forUpdate().executeTakeFirst();
        const written = await upsertConnection(trx, view);
        await insertHistory(trx, { connectionId: view.id, version: view.version, ...history });
        const changes = written && (!before || before.status !== view.status || before.offer_access !== view.offerAccess);
        if (changes) await touchPairs(trx, [pair]);
        return changes;
      });
      if (!touched || !temporal) return;
      // Not awaited: a command's answer waits for its row, not for the fan-out's start (a Temporal
      // round trip). A start lost with this process, or refused, is made by the relay.
      void startPairFanouts({ db, client: temporal.client, taskQueue: temporal.taskQueue }, [pair], { startDeadlineMs: 2_000 })
        .catch((err: unknown) => [{ outcome: 'failed', error: err }])
        .then((starts) => {
          const failed = starts.filter((s) => s.outcome === 'failed');
          if (failed.length > 0) console.warn('availability fan-out not started; the relay will start it', { ...pair, error: String(failed[0]!.error) });
        });
    },

    async sendSystemMail(mail: SystemMail): Promise<{ messageId: string; skipped: boolean }> {
      const messageId = mailMessageId(mail.connectionId, mail.transition, mail.template);
      // Logged already: an earlier attempt of this activity sent it and only its completion was lost.
      if (await findMail(db, messageId)) return { messageId, skipped: true };

      if (!MAIL_TEMPLATES.includes(mail.template)) {
        throw ApplicationFailure.create({ type: 'MAIL_TEMPLATE_UNKNOWN', message: `no mail template ${mail.template}`, nonRetryable: true });
      }
      const language = mail.recipient.language;
      const { subject, text } = renderMail(mail.template, language, {
        recipient: mail.recipient,
        other: mail.other,
        connectionId: mail.connectionId,
        offerAccess: mail.offerAccess,
        expiresAt: mail.expiresAt,
      });
      await deliverMail({ db, mailer, mailFrom }, { messageId, connectionId: mail.connectionId, template: mail.template, recipient: mail.recipient, subject, text });
      return { messageId, skipped: false };
    },

    /** Every open connection at once: only for module fan-outs started before paging (`module-fanout-paged`). */
    async listConnectionsOfCompany(input: { contractingCompanyId: string }): Promise<{ connectionId: string; workflowId: string }[]> {
      return listOpenConnectionsOfCompany(db, input.contractingCompanyId);
    },

    /**
     * For callers that start a connection on Temporal directly without a rule set: the active one.
     * Only reads: publishing is an operator's act (api/rule-set.service.ts). None active (a
     * database nobody booted) is retried until one is published, visibly in the Temporal UI.
     */
    async loadActiveRuleSet(): Promise<CompiledRuleSet> {
      const active = await getActiveCompiledRuleSet(db);
      if (!active) throw ApplicationFailure.create({ type: 'NO_ACTIVE_RULE_SET', message: 'no rule set is active: publish one' });
      return active;
    },
  };
}

export type ConnectionActivities = ReturnType<typeof createConnectionActivities>;
