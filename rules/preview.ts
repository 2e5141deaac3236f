/**
 * The pure half of an impact preview (issue 15): given what the read model holds about one open
 * connection, open cart or recorded payment, what the draft rule set would decide differently from
 * the rule set in force for it. The API pages the read model and feeds these (api/rule-set-preview.service.ts).
 */
import type { CartItem } from '../domain/cart.ts';
import type { PartyFacts } from '../domain/connection.ts';
import type { OrderItem } from '../domain/payout.ts';
import { cartFacts } from './cart-facts.ts';
import { clientFacts, invitationFacts } from './connection-facts.ts';
import { roundedShare, type RulesEvaluator } from './evaluator.ts';
import type { ConnectionRuleFacts, GuardEvent, GuardFacts, PurchaseFacts } from './facts.ts';
import type { RuleCode } from './model.ts';
import type { GuardVerdict } from './verdicts.ts';

export interface PreviewConnection {
  id: string;
  status: string;
  offerAccess: boolean;
  hasCallback: boolean;
  blockedBy: string | null;
  sourceClientId: string;
  targetClientId: string;
  ruleSetVersion: string | null;
  source: PartyFacts;
  target: PartyFacts;
}

export interface PreviewCart {
  id: string;
  title: string;
  status: string;
  items: CartItem[];
  ruleSetVersion: string | null;
  seller: PartyFacts;
}

export interface PreviewPayment {
  rowId: string;
  /** PAYMENT (sales and renewals) adds to a pair's sums; REFUND and LOSS (chargebacks) take back. */
  type: 'PAYMENT' | 'REFUND' | 'LOSS';
  sourceClientId: string;
  connectedClientId: string;
  connectionId: string;
  hasCallback: boolean;
  offerId: string;
  amountMinor: number;
  currency: string;
  shareMinor: number;
  order: { orderId: string; customerId: string; paymentMethod: string; currency: string; items: OrderItem[] };
  offer: { id: string; title: string; priceMinor: number; currency: string; ownerClientId: string };
  seller: PartyFacts;
  source: PartyFacts;
}

/** One guard event that the draft decides otherwise for one connection or cart. */
export interface VerdictChange {
  id: string;
  event: GuardEvent;
  /** What the draft answers: `refused` (was allowed, or refused by another rule) or `allowed` (was refused). */
  verdict: 'allowed' | 'refused';
  /** The draft's refusing rule; for `allowed`, the rule that refused before. */
  rule: string;
  /** The draft's refusal code and message (null when allowed). */
  code: RuleCode | null;
  message: string | null;
  /** The version it is compared with: the one the connection or cart is pinned to. */
  ruleSetVersion: string | null;
  /**
   * `next`: an event still ahead of it (an invitation's accept, a draft cart's items and
   * activation) — upgrading it changes what happens. `admission`: a step it already took (an open
   * connection's invitation, an active cart's activation) — it stays as it is, but the draft would
   * not let it in like this today.
   */
  applies: 'next' | 'admission';
}

function compare(id: string, event: GuardEvent, applies: VerdictChange['applies'], version: string | null, current: GuardVerdict, draft: GuardVerdict): VerdictChange | null {
  if (current.allowed && draft.allowed) return null;
  if (!current.allowed && !draft.allowed && current.rule === draft.rule) return null;
  if (draft.allowed) return { id, event, verdict: 'allowed', rule: (current as { rule: string }).rule, code: null, message: null, ruleSetVersion: version, applies };
  return { id, event, verdict: 'refused', rule: draft.rule, code: draft.code, message: draft.message, ruleSetVersion: version, applies };
}

/**
 * An invited connection: would the target's `accept` pass? Every open connection: would the draft
 * have let it be created (`connection.invite` with its facts now) — it stays, but the pair could
 * not connect again like this.
 */
export function connectionChanges(c: PreviewConnection, current: RulesEvaluator, draft: RulesEvaluator): VerdictChange[] {
  const changes: VerdictChange[] = [];
  const push = (change: VerdictChange | null) => change && changes.push(change);
  const invite = invitationFacts({ connectionId: c.id, source: c.source, target: c.target, offerAccess: c.offerAccess, hasCallback: c.hasCallback });
  push(compare(c.id, 'connection.invite', 'admission', c.ruleSetVersion, current.checkGuards('connection.invite', invite), draft.checkGuards('connection.invite', invite)));
  if (c.status === 'invited') {
    const connection: ConnectionRuleFacts = { id: c.id, status: c.status, offerAccess: c.offerAccess, hasCallback: c.hasCallback, blockedBy: c.blockedBy ?? '' };
    const facts: GuardFacts['connection.accept'] = {
      source: clientFacts(c.source), target: clientFacts(c.target), connection, actor: { id: c.targetClientId, role: 'target' },
    };
    push(compare(c.id, 'connection.accept', 'next', c.ruleSetVersion, current.checkGuards('connection.accept', facts), draft.checkGuards('connection.accept', facts)));
  }
  return changes;
}

/** A draft cart: its items and its activation. An active or suspended one: the activation it passed. */
export function cartChanges(cart: PreviewCart, current: RulesEvaluator, draft: RulesEvaluator): VerdictChange[] {
  const facts = { seller: clientFacts(cart.seller), cart: cartFacts(cart, cart.items) };
  const events: GuardEvent[] = cart.status === 'draft' ? ['cart.setItems', 'cart.activate'] : ['cart.activate'];
  const applies = cart.status === 'draft' ? 'next' : 'admission';
  return events.flatMap((event) => compare(cart.id, event, applies, cart.ruleSetVersion, current.checkGuards(event, facts as never), draft.checkGuards(event, facts as never)) ?? []);
}

/**
 * The share the draft would have given one payout row: the draft's payout rules over the sale's
 * facts (the connection as it was when it authorized the sale: active, offer access on), applied
 * to the row's amount — a renewal, refund or chargeback keeps its order's basis points, like the
 * product does.
 */
export function draftShare(p: PreviewPayment, owners: ReadonlyMap<string, string>, draft: RulesEvaluator): { ok: true; shareMinor: number } | { ok: false; rule: string; error: string } {
  const items = p.order.items.map((i) => {
    const owner = owners.get(i.offerId) ?? p.connectedClientId;
    return { offerId: i.offerId, amountMinor: i.amountMinor, external: owner !== p.connectedClientId, sourceClientId: owner };
  });
  const purchase: PurchaseFacts = {
    orderId: p.order.orderId, customerId: p.order.customerId, paymentMethod: p.order.paymentMethod, currency: p.order.currency,
    totalMinor: items.reduce((sum, i) => sum + i.amountMinor, 0), items,
  };
  const item = items.find((i) => i.offerId === p.offerId) ?? { offerId: p.offerId, amountMinor: p.amountMinor, external: true, sourceClientId: p.sourceClientId };
  const share = draft.payoutShare({
    seller: clientFacts(p.seller),
    source: clientFacts(p.source),
    connection: { id: p.connectionId, status: 'active', offerAccess: true, hasCallback: p.hasCallback, blockedBy: '' },
    offer: p.offer,
    item,
    purchase,
  });
  if (!share.ok) return { ok: false, rule: share.ruleId, error: share.error };
  return { ok: true, shareMinor: Number(roundedShare(BigInt(p.amountMinor), BigInt(share.shareBasisPoints))) };
}

export interface PayoutLine {
  sourceClientId: string;
  connectedClientId: string;
  currency: string;
  /** The shares recorded (the rules in force when each sale happened), net of refunds and chargebacks. */
  currentShareMinor: number;
  /** The shares the draft would have given, net; a row whose draft rule fails counts 0 here and in `refusedRows`. */
  draftShareMinor: number;
  rows: number;
  /** Of `rows`, the refunds and chargebacks (taken back from both sums). */
  reversalRows: number;
  /** Rows the draft's payout rules fail for: the product would have refused those sales. */
  refusedRows: number;
}

/** Sums per (source, seller, currency), in a stable order. */
export class PayoutSums {
  private readonly lines = new Map<string, PayoutLine>();

  add(p: PreviewPayment, draft: ReturnType<typeof draftShare>): void {
    const key = `${p.sourceClientId}|${p.connectedClientId}|${p.currency}`;
    let line = this.lines.get(key);
    if (!line) {
      line = { sourceClientId: p.sourceClientId, connectedClientId: p.connectedClientId, currency: p.currency, currentShareMinor: 0, draftShareMinor: 0, rows: 0, reversalRows: 0, refusedRows: 0 };
      this.lines.set(key, line);
    }
    const sign = p.type === 'PAYMENT' ? 1 : -1;
    line.rows += 1;
    if (sign < 0) line.reversalRows += 1;
    line.currentShareMinor += sign * p.shareMinor;
    if (draft.ok) line.draftShareMinor += sign * draft.shareMinor;
    else line.refusedRows += 1;
  }

  toList(): PayoutLine[] {
    return [...this.lines.values()].sort((a, b) =>
      a.sourceClientId.localeCompare(b.sourceClientId) || a.connectedClientId.localeCompare(b.connectedClientId) || a.currency.localeCompare(b.currency));
  }
}
