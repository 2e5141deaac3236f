/**
 * What a sale records once every source's connection has authorized it: a PAYMENT row per
 * cross-client item, its share computed with THAT connection's pinned rule set, and the sale mails
 * those rule sets route (`purchase.record`). Pure and deterministic: the purchase workflow runs it
 * in its sandbox (runs from before the one-step shape), the activity `authorizeAndRecordPurchase`
 * in the worker — the same inputs give the same rows either way.
 */
import type { MailTemplate, SaleMailData } from '../activities/mail-templates.ts';
import { ErrorCode, type Refusal } from '../domain/errors.ts';
import type { SalePayment } from '../domain/payout.ts';
import { tryCreateEvaluator, type RulesEvaluator } from '../rules/evaluator.ts';
import type { PurchaseFacts } from '../rules/facts.ts';
import { templateFitsEvent, type CompiledRuleSet } from '../rules/model.ts';
import type { SaleAuthorization } from './messages.ts';
import type { LoadedPurchaseFacts, PurchaseWorkflowInput } from './purchase.messages.ts';

/** The system mail of one sale to one party (rule `purchase.record`), sent by `purchaseMailWorkflow`. */
export interface SaleMail {
  sellerClientId: string;
  /** The source whose offers were sold: with seller and order, what the mail is about. */
  sourceClientId: string;
  /** The connection (source → seller) that authorized the sale. */
  connectionId: string;
  template: MailTemplate;
  recipientClientId: string;
  otherClientId: string;
  sale: SaleMailData;
}


/** The evaluator of a rule set, or why it cannot be used. */
export type EvaluatorOf = (ruleSet: CompiledRuleSet) => RulesEvaluator | Refusal;

/**
 * Builds evaluators once per rule set within one cache: a run's, or a worker's (bounded by `max`:
 * emptied when full, which only costs a parse again).
 */
export function evaluatorCache(max = Infinity): EvaluatorOf {
  const cache = new Map<string, RulesEvaluator>();
  return (ruleSet) => {
    const known = cache.get(ruleSet.hash);
    if (known) return known;
    const made = tryCreateEvaluator(ruleSet);
    if (!made.ok) return { code: ErrorCode.RULE_REJECTED, message: `rule set ${ruleSet.hash} is not usable: ${made.error}`, details: { ruleSetVersion: ruleSet.hash } };
    if (cache.size >= max) cache.clear();
    cache.set(ruleSet.hash, made.evaluator);
    return made.evaluator;
  };
}

const isRefusal = (value: RulesEvaluator | Refusal): value is Refusal => typeof (value as Refusal).code === 'string';

/** The rows and mails of a sale, or the refusal of a payout rule or rule set. */
export function priceSale(
  input: PurchaseWorkflowInput,
  facts: LoadedPurchaseFacts,
  saleOf: ReadonlyMap<string, SaleAuthorization>,
  evaluatorOf: EvaluatorOf,
): { ok: true; payments: SalePayment[]; mails: SaleMail[] } | { ok: false; refusal: Refusal } {
  const { request, sellerClientId } = input;
  const external = input.items.filter((i) => i.external);
  const sources = [...new Set(external.map((i) => i.sourceClientId))].sort();
  const purchase: PurchaseFacts = {
    orderId: request.orderId,
    customerId: request.customerId,
    paymentMethod: request.paymentMethod,
    currency: request.currency,
    totalMinor: input.items.reduce((sum, i) => sum + i.amountMinor, 0),
    items: input.items,
  };
  const payments: SalePayment[] = [];
  for (const item of external) {
    const sale = saleOf.get(item.sourceClientId)!;
    const offer = facts.offers[item.offerId]!;
    const evaluator = evaluatorOf(sale.ruleSet);
    if (isRefusal(evaluator)) return { ok: false, refusal: evaluator };
    const share = evaluator.payoutShare({
      seller: facts.seller,
      source: facts.sources[item.sourceClientId]!,
      connection: sale.connection,
      offer: offer.facts,
      item,
      purchase,
    });
    if (!share.ok) {
      return {
        ok: false,
        refusal: {
          code: ErrorCode.RULE_REJECTED,
          message: `payout rule \`${share.ruleId}\` of rule set ${sale.ruleSet.hash} failed for offer ${item.offerId}: ${share.error}`,
          details: { rule: share.ruleId, offerId: item.offerId, ruleSetVersion: sale.ruleSet.hash },
        },
      };
    }
    payments.push({
      sourceClientId: item.sourceClientId,
      connectionId: sale.connectionId,
      offerId: item.offerId,
      costCenter: offer.costCenter,
      amountMinor: item.amountMinor,
      shareBasisPoints: share.shareBasisPoints,
      shareMinor: share.shareMinor,
      ruleSetVersion: sale.ruleSet.hash,
    });
  }

  // The configured mails: per source, as ITS connection's pinned rule set routes `purchase.record`.
  const mails: SaleMail[] = [];
  for (const sourceClientId of sources) {
    const sale = saleOf.get(sourceClientId)!;
    const evaluator = evaluatorOf(sale.ruleSet);
    if (isRefusal(evaluator)) return { ok: false, refusal: evaluator };
    const notification = evaluator.notification('purchase.record');
    if (!notification?.enabled || !templateFitsEvent('purchase.record', notification.template)) continue;
    const toSeller = notification.recipient === 'target';
    mails.push({
      sellerClientId,
      sourceClientId,
      connectionId: sale.connectionId,
      template: notification.template,
      recipientClientId: toSeller ? sellerClientId : sourceClientId,
      otherClientId: toSeller ? sourceClientId : sellerClientId,
      sale: {
        orderId: request.orderId,
        currency: request.currency,
        items: payments
          .filter((p) => p.sourceClientId === sourceClientId)
          .map((p) => ({ offerId: p.offerId, title: facts.offers[p.offerId]!.facts.title, amountMinor: p.amountMinor, shareMinor: p.shareMinor })),
      },
    });
  }
  return { ok: true, payments, mails };
}

/** The record of a priced sale, as `recordPurchase` takes it. */
export function saleRecordOf(input: PurchaseWorkflowInput, payments: SalePayment[], mails: SaleMail[], mailsWithRecord = true) {
  const { request } = input;
  return {
    sellerClientId: input.sellerClientId,
    orderId: request.orderId,
    cartId: input.cartId,
    customerId: request.customerId,
    paymentMethod: request.paymentMethod,
    currency: request.currency,
    subscriptionId: request.subscriptionId ?? null,
    invoiceId: request.invoiceId ?? null,
    items: request.items.map((i) => ({ offerId: i.offerId, amountMinor: i.amountMinor })),
    requestHash: input.requestHash,
    payments,
    ...(mailsWithRecord && mails.length > 0 ? { mails } : {}),
  };
}
