/**
 * Orders and their PAYMENT rows (docs/architecture.md "Purchases and the payout list"). Postgres
 * is the authority: an order is unique per (seller, order id) and keeps the hash of the request
 * that made it; a payout row is unique per (seller, order id, offer, type, movement id). Recording
 * a purchase is one transaction, idempotent: a retry after a commit reads back what was written.
 */
import { sql, type Kysely } from 'kysely';
import type { OrderItem, OrderView, SalePayment } from '../domain/payout.ts';
import { payoutEvent } from '../domain/event.ts';
import { appendEvents } from './event.repository.ts';
import { enqueueOrderCallbacks } from './callback.repository.ts';
import { enqueueMails, type NewMail } from './mail.repository.ts';
import { toPayoutRow } from './payout.repository.ts';
import type { Database, OrderRow, PayoutRowRecord } from './schema.ts';

/** One PAYMENT row to write: a cross-client item of the order, its share already computed. */
export interface PaymentRowInput extends SalePayment {
  /** Minted by the caller (UUIDv7); ignored when the row already exists. */
  id: string;
}

export interface OrderRecord {
  /** Minted by the caller (UUIDv7); ignored when the order already exists. */
  id: string;
  sellerClientId: string;
  orderId: string;
  cartId: string;
  customerId: string;
  paymentMethod: string;
  currency: string;
  subscriptionId: string | null;
  invoiceId: string | null;
  items: OrderItem[];
  requestHash: string;
  payments: PaymentRowInput[];
}

export type RecordOrderOutcome =
  | { ok: true; order: OrderView; created: boolean }
  | { ok: false; code: 'ORDER_CONFLICT'; message: string }
  | { ok: false; code: 'ITEM_UNAVAILABLE'; message: string; offerId: string };

/**
 * In one transaction: the order is inserted unless one is recorded (a retry, or another attempt
 * that committed meanwhile: the insert waits for it), which is read back when its request hash is
 * the same and is a conflict otherwise; a new order's external offers must all still be shared
 * with the seller (their offer_targets rows are share-locked by the insert's statement, so an
 * un-share waits for this commit or is seen), then one PAYMENT row per payment, the callbacks to
 * their sources (the outbox of db/callback.repository.ts, delivered by the workers of
 * `callbackQueue`), the change feed and the sale `mails` are written — the mails for an order read
 * back too (keyed by Message-ID, so nothing twice). Nothing is written when anything is refused.
 * Statements, since they cost the most under load: the insert with the offer check, the rows with
 * their callbacks' lookup, callbacks (only where a connection has one), the feed with the mails —
 * the order's view is built from what the inserts returned.
 */
export async function recordOrder(db: Kysely<Database>, rec: OrderRecord, callbackQueue: string, mails: readonly NewMail[] = []): Promise<RecordOrderOutcome> {
  const offerIds = [...new Set(rec.payments.map((p) => p.offerId))];
  try {
    return await db.transaction().execute(async (trx) => {
      const inserted = await trx
        .with('shared', (q) =>
          q
            .selectFrom('offer_targets')
            .select('offer_id')
            .where('target_client_id', '=', rec.sellerClientId)
            .where('offer_id', '=', (eb) => eb.fn.any(eb.val(offerIds)))
            .forShare(),
        )
        .insertInto('orders')
        .values({
          id: rec.id,
          seller_client_id: rec.sellerClientId,
          order_id: rec.orderId,
          cart_id: rec.cartId,
          customer_id: rec.customerId,
          payment_method: rec.paymentMethod,
          currency: rec.currency,
          subscription_id: rec.subscriptionId,
          invoice_id: rec.invoiceId,
          items: JSON.stringify(rec.items),
          request_hash: rec.requestHash,
        })
        .onConflict((oc) => oc.columns(['seller_client_id', 'order_id']).doNothing())
        .returningAll()
        .returning((eb) => eb.selectFrom('shared').select(sql<string[]>`coalesce(json_agg(offer_id), '[]'::json)`.as('ids')).as('shared_offer_ids'))
        .executeTakeFirst();
      if (!inserted) {
        const before = await findOrder(trx, rec.sellerClientId, rec.orderId);
        if (!before) throw new Error(`order ${rec.orderId} conflicted but cannot be read`);
        const outcome = await sameOrConflict(trx, before, rec.requestHash);
        if (outcome.ok) await enqueueMails(trx, mails);
        return outcome;
      }
      const { shared_offer_ids: sharedIds, ...order } = inserted;
      const have = new Set(sharedIds ?? []);
      const missing = offerIds.find((id) => !have.has(id));
      // Thrown to roll the order back; answered below.
      if (missing) throw new Refused({ ok: false, code: 'ITEM_UNAVAILABLE', message: `offer ${missing} is no longer shared with this client`, offerId: missing });

      let rows: PayoutRowRecord[] = [];
      if (rec.payments.length > 0) {
        // The rows, and which of their connections have a callback, in one statement.
        const written = await trx
          .with('inserted', (db) =>
            db
              .insertInto('payout_rows')
              .values(
                rec.payments.map((p) => ({
                  id: p.id,
                  type: 'PAYMENT' as const,
                  paid_status: 'OPEN' as const,
                  source_client_id: p.sourceClientId,
                  connected_client_id: rec.sellerClientId,
                  connection_id: p.connectionId,
                  order_ref: order.id,
                  order_id: rec.orderId,
                  movement_id: rec.orderId,
                  subscription_id: rec.subscriptionId,
                  invoice_id: rec.invoiceId,
                  offer_id: p.offerId,
                  cost_center: p.costCenter,
                  payment_method: rec.paymentMethod,
                  amount_minor: p.amountMinor,
                  currency: rec.currency,
                  share_basis_points: p.shareBasisPoints,
                  share_minor: p.shareMinor,
                  rule_set_version: p.ruleSetVersion,
                })),
              )
              .onConflict((oc) => oc.columns(['connected_client_id', 'order_id', 'offer_id', 'type', 'movement_id']).doNothing())
              .returningAll(),
          )
          .selectFrom('inserted')
          .selectAll('inserted')
          .select((eb) =>
            eb.exists(eb.selectFrom('connection_callbacks').select('connection_callbacks.connection_id').whereRef('connection_callbacks.connection_id', '=', 'inserted.connection_id')).as('has_callback'),
          )
          .execute();
        // In the order of the request's items, as a RETURNING would give them.
        const byId = new Map(written.map(({ has_callback: _, ...row }) => [row.id, row]));
        rows = rec.payments.flatMap((p) => byId.get(p.id) ?? []);
        const withCallback = written.filter((r) => r.has_callback).map((r) => r.connection_id!);
        await enqueueOrderCallbacks(trx, {
          queue: callbackQueue,
          order,
          type: 'PAYMENT',
          movementId: rec.orderId,
          invoiceId: rec.invoiceId,
          withCallback,
          items: rec.payments.map((p) => ({
            payoutId: p.id, connectionId: p.connectionId, sourceClientId: p.sourceClientId, offerId: p.offerId, costCenter: p.costCenter,
            amountMinor: p.amountMinor, shareBasisPoints: p.shareBasisPoints, shareMinor: p.shareMinor, ruleSetVersion: p.ruleSetVersion,
          })),
        });
      }
      // The change feed, with the order: the seller learns of the order, both parties of each row.
      const recorded = { orderId: rec.orderId, cartId: rec.cartId, currency: rec.currency, items: rec.items, payoutRowIds: rows.map((r) => r.id) };
      await appendEvents(
        trx,
        [{ clientIds: [rec.sellerClientId], type: 'order.recorded', entityId: rec.orderId, data: recorded }, ...rows.map((r) => payoutEvent('payout.created', toPayoutRow(r)))],
        mails,
      );
      return { ok: true, order: orderViewOf(order, rows), created: true };
    });
  } catch (err) {
    if (err instanceof Refused) return err.outcome;
    throw err;
  }
}

/** A refusal found inside the transaction: thrown to roll it back, answered by recordOrder. */
class Refused extends Error {
  constructor(readonly outcome: Extract<RecordOrderOutcome, { ok: false }>) {
    super(outcome.message);
  }
}

async function sameOrConflict(db: Kysely<Database>, row: OrderRow, requestHash: string): Promise<RecordOrderOutcome> {
  if (row.request_hash !== requestHash) {
    return { ok: false, code: 'ORDER_CONFLICT', message: `order ${row.order_id} was recorded with another request` };
  }
  return { ok: true, order: await toOrderView(db, row), created: false };
}

export async function findOrder(db: Kysely<Database>, sellerClientId: string, orderId: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('seller_client_id', '=', sellerClientId).where('order_id', '=', orderId).executeTakeFirst();
}

/** The order of a seller with its PAYMENT rows (in the order of its items), with its request hash; undefined if none. */
export async function getOrderView(
  db: Kysely<Database>,
  sellerClientId: string,
  orderId: string,
): Promise<{ view: OrderView; requestHash: string } | undefined> {
  const row = await findOrder(db, sellerClientId, orderId);
  return row && { view: await toOrderView(db, row), requestHash: row.request_hash };
}

/** The order and its PAYMENT rows for the order itself (movement = the order id), in item order. */
export async function toOrderView(db: Kysely<Database>, row: OrderRow): Promise<OrderView> {
  const payments = await db
    .selectFrom('payout_rows')
    .selectAll()
    .where('order_ref', '=', row.id)
    .where('type', '=', 'PAYMENT')
    .where('movement_id', '=', row.order_id)
    .execute();
  return orderViewOf(row, payments);
}

/** The view of an order with its PAYMENT rows, sorted in the order of its items. */
function orderViewOf(row: OrderRow, payments: PayoutRowRecord[]): OrderView {
  const items = row.items as OrderItem[];
  const position = new Map(items.map((item, n) => [item.offerId, n]));
  const sorted = [...payments].sort((a, b) => (position.get(a.offer_id) ?? 0) - (position.get(b.offer_id) ?? 0));
  return {
    id: row.id,
    orderId: row.order_id,
    sellerClientId: row.seller_client_id,
    cartId: row.cart_id,
    customerId: row.customer_id,
    paymentMethod: row.payment_method,
    currency: row.currency.trim(),
    subscriptionId: row.subscription_id,
    invoiceId: row.invoice_id,
    items,
    createdAt: row.created_at.toISOString(),
    payouts: sorted.map(toPayoutRow),
  };
}
