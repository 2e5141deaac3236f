/**
 * Activities of the purchase workflow: the facts its payout rules read, the sale authorized by
 * each source's connection (update `authorizeSale`, sent through the Temporal client), and the one
 * transaction that records the order with its PAYMENT rows. The workflow imports only `typeof`
 * the object returned here. Refusals are non-retryable ApplicationFailures whose type is the
 * error code; anything else is retried (database preset).
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { getPartiesFacts } from '../db/client.repository.ts';
import { getSaleFacts } from '../db/sale-facts.repository.ts';
import { enqueueMails, type NewMail } from '../db/mail.repository.ts';
import { recordOrder, type OrderRecord } from '../db/order.repository.ts';
import type { Database } from '../db/schema.ts';
import { CROSS_CLIENT_MODULE, type PartyFacts } from '../domain/connection.ts';
import { ErrorCode } from '../domain/errors.ts';
import type { OrderView } from '../domain/payout.ts';
import { MAIL_TEMPLATES, renderMail, type MailTemplate } from './mail-templates.ts';
import { authorizeSaleUpdate, saleUpdateId, type SaleAuthorization, type SaleAuthorizationByVersion } from '../workflows/messages.ts';
import type { PurchaseWorkflowInput } from '../workflows/purchase.messages.ts';
import { evaluatorCache, priceSale, saleRecordOf } from '../workflows/sale-pricing.ts';
import { partiesOf, purchaseFactsOf, type FactsOutcome } from '../workflows/sale-facts.ts';
import { ruleSetsByVersion } from './rule-sets-by-version.ts';

export interface PurchaseActivityDeps {
  db: Kysely<Database>;
  temporal: { client: Client; taskQueue: string };
  /** The deployment's task queue: its workers' dispatchers deliver the mails enqueued here. */
  mailQueue: string;
}

// Where they are declared (the workflow contract and the sale's pricing), re-exported for callers here.
export type { LoadedPurchaseFacts } from '../workflows/purchase.messages.ts';
export type { SaleMail } from '../workflows/sale-pricing.ts';
import type { LoadedPurchaseFacts } from '../workflows/purchase.messages.ts';
import type { SaleMail } from '../workflows/sale-pricing.ts';

/** Derived from purchase, source and template, so a resend carries the same id and is recognisable. */
export function saleMailMessageId(sellerClientId: string, orderId: string, sourceClientId: string, template: MailTemplate): string {
  return `<purchase.${sellerClientId}.${orderId}.${sourceClientId}.${template}@ccx>`;
}

export type PurchaseRecordInput = Omit<OrderRecord, 'id' | 'payments'> & { payments: Array<Omit<OrderRecord['payments'][number], 'id'>> };

/** What a purchase asks a source's connection. */
interface SaleAsk {
  sourceClientId: string;
  /** The source's active connection as the API read it; looked up when absent. */
  connection?: { id: string; workflowId: string };
  sellerClientId: string;
  orderId: string;
  purchaseId: string;
  offerIds: string[];
}

/** Below the database preset's start-to-close timeout (5 s). */
const UPDATE_DEADLINE_MS = 4_000;

const refusal = (code: ErrorCode, message: string, details?: Record<string, unknown>) =>
  ApplicationFailure.create({ type: code, message, nonRetryable: true, details: details ? [details] : undefined });

/**
 * What the payout rules of a purchase read: the API loads it before starting the run (passed in
 * its input), the activity `loadPurchaseFacts` for runs started without it.
 */
export async function loadPurchaseFactsFrom(db: Kysely<Database>, input: { sellerClientId: string; sourceClientIds: string[]; offerIds: string[] }): Promise<FactsOutcome> {
  const { parties, offers } = await getSaleFacts(db, [input.sellerClientId, ...input.sourceClientIds], input.offerIds, CROSS_CLIENT_MODULE);
  return purchaseFactsOf(parties, offers, input);
}

export function createPurchaseActivities({ db, temporal, mailQueue }: PurchaseActivityDeps) {
  // A worker sees few rule sets (the published versions connections are pinned to): each one's
  // CEL is parsed once per process, not once per sale. Bounded, in case of very many.
  const evaluatorOf = evaluatorCache(64);
  const versions = ruleSetsByVersion(db);
  const activities = {
    async loadPurchaseFacts(input: { sellerClientId: string; sourceClientIds: string[]; offerIds: string[] }): Promise<LoadedPurchaseFacts> {
      const loaded = await loadPurchaseFactsFrom(db, input);
      if (!loaded.ok) throw refusal(loaded.code, loaded.message, loaded.details);
      return loaded.facts;
    },

    /**
     * Asks the active connection of (source, seller) whether the sale may happen, its answer
     * carrying the pinned rule set (the purchase shapes that price in the workflow). The accepted
     * update is the linearization point; its id makes a retried activity attach to the same update.
     */
    async authorizeSale(input: SaleAsk): Promise<SaleAuthorization> {
      const answer = await askConnection(input);
      if ('ruleSet' in answer) return answer;
      throw new Error('the connection answered without its rule set, which was not asked for'); // retried
    },

    /**
     * The whole sale (the purchase workflow's one-step shape): every source's connection asked at
     * once, the rows priced with each one's pinned rule set (workflows/sale-pricing.ts, as the
     * workflow prices them in the shapes before), the order recorded. A retry after any step
     * converges: the updates attach by id to the answers given, the record is keyed by the order.
     */
    async authorizeAndRecordPurchase(input: PurchaseWorkflowInput & { purchaseId: string }): Promise<OrderView> {
      const { sellerClientId, request } = input;
      const external = input.items.filter((i) => i.external);
      const sources = [...new Set(external.map((i) => i.sourceClientId))].sort();
      const facts = input.facts ?? (await activities.loadPurchaseFacts({ sellerClientId, sourceClientIds: sources, offerIds: external.map((i) => i.offerId) }));
      const sales = await Promise.all(
        sources.map((sourceClientId) =>
          authorizeByVersion({
            sourceClientId,
            sellerClientId,
            orderId: request.orderId,
            purchaseId: input.purchaseId,
            offerIds: external.filter((i) => i.sourceClientId === sourceClientId).map((i) => i.offerId),
            connection: facts.connections?.[sourceClientId],
          }),
        ),
      );
      const priced = priceSale(input, facts, new Map(sources.map((s, n) => [s, sales[n]!])), evaluatorOf);
      if (!priced.ok) throw refusal(priced.refusal.code, priced.refusal.message, priced.refusal.details);
      return record(saleRecordOf(input, priced.payments, priced.mails), partiesOf(facts));
    },

    /**
     * The order, its PAYMENT rows and the sale mails into the outbox (keyed by Message-ID) in one
     * transaction (db/order.repository.ts): a retry after the commit finds all of it, and one
     * commit is cheaper than two under load.
     */
    async recordPurchase(input: PurchaseRecordInput & { mails?: SaleMail[] }): Promise<OrderView> {
      return record(input);
    },

    /**
     * The mail of one sale, rendered in the recipient's language into the outbox (the dispatchers
     * deliver it; keyed by Message-ID, so a retry adds nothing). Runs from before sale mails went
     * with the order (their mail child) enqueue one by one here.
     */
    async sendSaleMail(mail: SaleMail): Promise<{ messageId: string; skipped: boolean }> {
      const messageId = saleMailMessageId(mail.sellerClientId, mail.sale.orderId, mail.sourceClientId, mail.template);
      if (!MAIL_TEMPLATES.includes(mail.template)) {
        throw ApplicationFailure.create({ type: 'MAIL_TEMPLATE_UNKNOWN', message: `no mail template ${mail.template}`, nonRetryable: true });
      }
      const [row] = await saleMailRows(db, [mail]);
      if (!row) throw ApplicationFailure.create({ type: ErrorCode.NOT_FOUND, message: 'a party of the sale no longer exists', nonRetryable: true });
      await enqueueMails(db, [row]);
      return { messageId, skipped: false };
    },
  };
  return activities;

  /** The order recorded with its sale mails, rendered for the parties the facts carry (or read just before). */
  async function record({ mails = [], ...input }: PurchaseRecordInput & { mails?: SaleMail[] }, known?: ReadonlyMap<string, PartyFacts>): Promise<OrderView> {
    const mailRows = mails.length > 0 ? await saleMailRows(db, mails, known) : [];
    const outcome = await recordOrder(db, { ...input, id: uuidv7(), payments: input.payments.map((p) => ({ ...p, id: uuidv7() })) }, mailQueue, mailRows);
    if (outcome.ok) return outcome.order;
    if (outcome.code === 'ITEM_UNAVAILABLE') throw refusal(ErrorCode.ITEM_UNAVAILABLE, outcome.message, { offerId: outcome.offerId });
    throw refusal(ErrorCode.ORDER_CONFLICT, outcome.message);
  }

  /**
   * The connection's question (update `authorizeSale`): its refusals as ITEM_UNAVAILABLE, an
   * unknown outcome thrown as is (the activity's retry attaches to the same update by its id).
   */
  async function askConnection(input: SaleAsk, form: 'version' | 'full' | 'full after version' = 'full'): Promise<SaleAuthorization | SaleAuthorizationByVersion> {
    const unavailable = (why: string, reason?: string) =>
      refusal(ErrorCode.ITEM_UNAVAILABLE, `offer ${input.offerIds[0]} cannot be sold by this client: ${why}`, {
        offerId: input.offerIds[0],
        offerIds: input.offerIds,
        ...(reason ? { reason } : {}),
      });
    const connection =
      input.connection ??
      (await db
        .selectFrom('connections')
        .select(['id', 'workflow_id as workflowId'])
        .where('source_client_id', '=', input.sourceClientId)
        .where('target_client_id', '=', input.sellerClientId)
        .where('status', '=', 'active')
        .executeTakeFirst());
    if (!connection) throw unavailable('no active connection to its source');
    const updateId = saleUpdateId(input.sellerClientId, input.orderId, connection.id);
    try {
      // Within the activity's start-to-close timeout: a connection whose worker is slow fails
      // this attempt (outcome unknown) and the retry attaches to the same update by its id.
      return await temporal.client.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
        temporal.client.workflow.getHandle(connection.workflowId).executeUpdate(authorizeSaleUpdate, {
          args: [{ connectionId: connection.id, actor: input.sellerClientId, purchaseId: input.purchaseId, offerIds: input.offerIds, ...(form === 'version' ? { ruleSet: 'version' as const } : {}) }],
          // Asked in full after an answer by version: another question, so another id.
          updateId: form === 'full after version' ? `${updateId}:rules` : updateId,
        }),
      );
    } catch (err) {
      // The connection's validator refused (blocked, offer access off, modules off, another connection now).
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) throw unavailable(err.cause.message, err.cause.type ?? undefined);
      if (err instanceof WorkflowNotFoundError) throw unavailable('the connection is closed');
      throw err;
    }
  }

  /**
   * The sale authorized, its rule set read by version from the published ones (kept per process:
   * a version's rule set never changes). A version that was never published (pinned through
   * Temporal directly) is asked for in full the first time, and kept by version from then on.
   */
  async function authorizeByVersion(input: SaleAsk): Promise<SaleAuthorization> {
    const answer = await askConnection(input, 'version');
    if ('ruleSet' in answer) return answer; // a connection run by older code answers in full
    const known = await versions.get(answer.ruleSetVersion);
    if (!known) {
      const full = await askConnection(input, 'full after version');
      if (!('ruleSet' in full)) throw new Error('the connection answered without its rule set, which was asked for'); // retried
      // Kept by version like a published one (the version is its content's hash): the next sale
      // of a connection pinned to it asks once, not twice.
      if (full.ruleSet.hash === answer.ruleSetVersion) versions.remember(full.ruleSet);
      return full;
    }
    return { connectionId: answer.connectionId, ruleSet: known, connection: answer.connection };
  }

  /**
   * The sale mails rendered in their recipients' languages, as the outbox keeps them (the parties
   * read in one statement); a mail that cannot be written (an unknown template, a party that no
   * longer exists) is logged and left out, never failing a sale.
   */
  async function saleMailRows(from: Kysely<Database>, mails: readonly SaleMail[], known?: ReadonlyMap<string, PartyFacts>): Promise<NewMail[]> {
    const ids = mails.flatMap((m) => [m.recipientClientId, m.otherClientId]);
    const parties = known && ids.every((id) => known.has(id)) ? known : await getPartiesFacts(from, ids, CROSS_CLIENT_MODULE);
    return mails.flatMap((mail): NewMail[] => {
      const messageId = saleMailMessageId(mail.sellerClientId, mail.sale.orderId, mail.sourceClientId, mail.template);
      const [recipient, other] = [parties.get(mail.recipientClientId), parties.get(mail.otherClientId)];
      if (!MAIL_TEMPLATES.includes(mail.template) || !recipient || !other) {
        console.warn('sale mail cannot be written; left out', { messageId, template: mail.template });
        return [];
      }
      const { subject, text } = renderMail(mail.template, recipient.language, {
        recipient, other, connectionId: mail.connectionId, offerAccess: true, expiresAt: null, sale: mail.sale,
      });
      return [{ messageId, queue: mailQueue, connectionId: mail.connectionId, template: mail.template, recipient: recipient.email, language: recipient.language, subject, body: text }];
    });
  }
}

export type PurchaseActivities = ReturnType<typeof createPurchaseActivities>;
