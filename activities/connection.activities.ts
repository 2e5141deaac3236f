/**
 * Activities of the connection workflow: everything it does with I/O. The workflow imports only
 * `typeof` the object returned here (type-only: nothing of this file enters the sandbox).
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Kysely } from 'kysely';
import { touchPairs } from '../db/availability.repository.ts';
import { getPartyFacts } from '../db/client.repository.ts';
import { holdModuleSwitches } from '../db/company.repository.ts';
import { insertHistory, listOpenConnectionsOfCompany, upsertConnection } from '../db/connection.repository.ts';
import { enqueueMails, type NewMail } from '../db/mail.repository.ts';
import { getActiveCompiledRuleSet } from '../db/rule-set.repository.ts';
import type { Database } from '../db/schema.ts';
import { CROSS_CLIENT_MODULE } from '../domain/connection.ts';
import type { ErrorCode } from '../domain/errors.ts';
import type { ConnectionFacts, ConnectionTransition, PartyFacts } from '../domain/connection.ts';
import { connectionEvent } from '../domain/event.ts';
import { appendEvents } from '../db/event.repository.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { startPairFanouts } from './availability.dispatch.ts';
import { ruleSetsByVersion } from './rule-sets-by-version.ts';
import { MAIL_TEMPLATES, renderMail, type MailTemplate } from './mail-templates.ts';

export interface ConnectionActivityDeps {
  db: Kysely<Database>;
  /** The deployment's task queue: its workers' dispatchers deliver the mails enqueued here. */
  mailQueue: string;
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

/** A system mail rendered in its recipient's language, as the outbox keeps it. */
export function systemMailRow(queue: string, mail: SystemMail): NewMail {
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
  return {
    messageId: mailMessageId(mail.connectionId, mail.transition, mail.template),
    queue,
    connectionId: mail.connectionId,
    template: mail.template,
    recipient: mail.recipient.email,
    language,
    subject,
    body: text,
  };
}

const NOT_FOUND: ErrorCode = 'NOT_FOUND';

/** Both parties' facts as stored now (`db` may be a transaction). */
async function partyFacts(db: Kysely<Database>, input: { sourceClientId: string; targetClientId: string }): Promise<ConnectionFacts> {
  const [source, target] = await Promise.all([
    getPartyFacts(db, input.sourceClientId, CROSS_CLIENT_MODULE),
    getPartyFacts(db, input.targetClientId, CROSS_CLIENT_MODULE),
  ]);
  if (!source) {
    // Retrying cannot make the source appear: the workflow was started with a bad id.
    throw ApplicationFailure.create({ type: NOT_FOUND, message: `source client ${input.sourceClientId} does not exist`, nonRetryable: true });
  }
  // An unknown target is a fact the invitation policy turns into a refusal, not an error here.
  return { source, target: target ?? null };
}

export function createConnectionActivities({ db, mailQueue, temporal }: ConnectionActivityDeps) {
  const versions = ruleSetsByVersion(db);
  /**
   * Not awaited by the record: a command's answer waits for its row, not for the fan-out's start
   * (a Temporal round trip). A start lost with this process, or refused, is made by the relay.
   */
  const startFanout = (pair: { sourceClientId: string; targetClientId: string }) => {
    if (!temporal) return;
    void startPairFanouts({ db, client: temporal.client, taskQueue: temporal.taskQueue }, [pair], { startDeadlineMs: 2_000 })
      .catch((err: unknown) => [{ outcome: 'failed', error: err }])
      .then((starts) => {
        const failed = starts.filter((s) => s.outcome === 'failed');
        if (failed.length > 0) console.warn('availability fan-out not started; the relay will start it', { ...pair, error: String(failed[0]!.error) });
      });
  };

  return {
    async loadConnectionFacts(input: { sourceClientId: string; targetClientId: string }): Promise<ConnectionFacts> {
      return partyFacts(db, input);
    },

    /**
     * Row, history entry and the mails the transition owes, together: the read model never shows a
     * state without its history, and no transition is recorded without its mails (the outbox; a
     * retried activity adds none twice: they are keyed by Message-ID). A transition that may
     * change what the target's carts can sell of the source (a new row, or status or offer access
     * changed) bumps the pair's availability version in the same transaction — only when the row
     * was written, so a retried activity does not bump twice — and after the commit starts the
     * pair's fan-out (best effort: the relay retries a lost start).
     *
     * `readFacts` (a new connection's first record): the parties' facts are read in the same
     * transaction, after taking the lock that module switches take exclusively — so a switch either
     * committed before this read (the facts show it) or waits for this row and its fan-out finds
     * it. Returned for the workflow to apply; null otherwise.
     */
    async recordConnectionTransition({
      view,
      history,
      mails = [],
      readFacts = false,
    }: ConnectionTransition & { mails?: SystemMail[]; readFacts?: boolean }): Promise<ConnectionFacts | null> {
      const pair = { sourceClientId: view.sourceClientId, targetClientId: view.targetClientId };
      const { touched, facts } = await db.transaction().execute(async (trx) => {
        if (readFacts) await holdModuleSwitches(trx, CROSS_CLIENT_MODULE);
        // Locked: a concurrent record of the same connection compares against what it wrote.
        const before = await trx.selectFrom('connections').select(['status', 'offer_access']).where('id', '=', view.id).forUpdate().executeTakeFirst();
        const written = await upsertConnection(trx, view);
        await insertHistory(trx, { connectionId: view.id, version: view.version, ...history });
        await enqueueMails(trx, mails.map((m) => systemMailRow(mailQueue, m)));
        if (written) await appendEvents(trx, [connectionEvent(view, history)]); // the change feed: only what changed the read model
        const changes = written && (!before || before.status !== view.status || before.offer_access !== view.offerAccess);
        if (changes) await touchPairs(trx, [pair]);
        return { touched: changes, facts: readFacts ? await partyFacts(trx, pair) : null };
      });
      if (touched && temporal) startFanout(pair);
      return facts;
    },


    /**
     * Puts one mail into the outbox (the dispatchers deliver it). Runs started before mails went
     * with their transition's record still call this once per mail (patch `mail-outbox`).
     */
    async sendSystemMail(mail: SystemMail): Promise<{ messageId: string; skipped: boolean }> {
      const row = systemMailRow(mailQueue, mail);
      await enqueueMails(db, [row]);
      return { messageId: row.messageId, skipped: false };
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

    /**
     * A published version, for runs whose input names it (workflows/rule-set-input.ts), read
     * once per process.
     */
    async loadRuleSetVersion({ version }: { version: string }): Promise<CompiledRuleSet> {
      const ruleSet = await versions.get(version);
      if (!ruleSet) throw ApplicationFailure.create({ type: 'NOT_FOUND', message: `rule set version ${version} was never published`, nonRetryable: true });
      return ruleSet;
    },
  };
}

export type ConnectionActivities = ReturnType<typeof createConnectionActivities>;
