/**
 * Callbacks to the source (docs/callbacks.md), the mail outbox's design (db/mail.repository.ts)
 * applied to HTTP: a delivery is inserted in the transaction that records its purchase or money
 * movement — keyed by (connection, order, type, movement), so a retried transaction adds nothing —
 * and delivered by whichever dispatcher claims it first (`FOR UPDATE SKIP LOCKED` and a lease the
 * claimer renews while its request lasts; a dead claimer's lease runs out and the delivery is
 * claimed again). Every attempt is logged in `callback_attempts`.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { callbackTypeOf, CALLBACK_RETRY_WINDOW_MS, type CallbackItem, type CallbackPayload } from '../domain/callback.ts';
import type { PayoutType } from '../domain/payout.ts';
import { decodeIdCursor, encodeIdCursor } from './id-cursor.ts';
import { claimDue, renewLease } from './outbox.ts';
import type { CallbackAttemptTable, CallbackDeliveryTable, Database, OrderRow } from './schema.ts';

export type CallbackDeliveryRow = Selectable<CallbackDeliveryTable>;
export type CallbackAttemptRow = Selectable<CallbackAttemptTable>;

const retryWindow = sql<Date>`now() + ${`${CALLBACK_RETRY_WINDOW_MS} milliseconds`}::interval`;

// ---- the connection's callback (URL and encrypted secret) ----

/** Inserts or replaces; `connections.callback_url` (the read model) follows when the row exists. */
export async function storeCallback(db: Kysely<Database>, connectionId: string, url: string, secretEnc: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('connection_callbacks')
      .values({ connection_id: connectionId, url, secret_enc: secretEnc })
      .onConflict((oc) => oc.column('connection_id').doUpdateSet({ url, secret_enc: secretEnc, updated_at: sql<Date>`now()` }))
      .execute();
    await trx.updateTable('connections').set({ callback_url: url }).where('id', '=', connectionId).execute();
  });
}

export interface StoredCallback {
  url: string;
  secret_enc: string | null;
}

/** The callbacks of several connections in one read (a claimed batch of deliveries). */
export async function getCallbacks(db: Kysely<Database>, connectionIds: readonly string[]): Promise<Map<string, StoredCallback>> {
  if (connectionIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('connection_callbacks')
    .select(['connection_id', 'url', 'secret_enc'])
    .where('connection_id', '=', (eb) => eb.fn.any(eb.val([...new Set(connectionIds)])))
    .execute();
  return new Map(rows.map((r) => [r.connection_id, { url: r.url, secret_enc: r.secret_enc }]));
}

export async function getCallback(db: Kysely<Database>, connectionId: string): Promise<StoredCallback | undefined> {
  return (await getCallbacks(db, [connectionId])).get(connectionId);
}

/** Forgets a callback stored for an invitation that never came to be (its start was refused). */
export async function dropCallbackWithoutConnection(db: Kysely<Database>, connectionId: string): Promise<void> {
  await db
    .deleteFrom('connection_callbacks')
    .where('connection_id', '=', connectionId)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('connections').select('id').where('id', '=', connectionId))))
    .execute();
}

/** Every stored secret, for re-encryption under the current key. */
export async function listCallbackSecrets(db: Kysely<Database>): Promise<Array<{ connection_id: string; secret_enc: string }>> {
  const rows = await db.selectFrom('connection_callbacks').select(['connection_id', 'secret_enc']).where('secret_enc', 'is not', null).execute();
  return rows as Array<{ connection_id: string; secret_enc: string }>;
}

/** Replaces a secret only if it is still the one that was read (a PUT in between wins). */
export async function replaceCallbackSecret(db: Kysely<Database>, connectionId: string, before: string, after: string): Promise<void> {
  await db.updateTable('connection_callbacks').set({ secret_enc: after }).where('connection_id', '=', connectionId).where('secret_enc', '=', before).execute();
}

// ---- enqueueing, in the transaction of the order or movement ----

export interface OrderMovementForCallbacks {
  /** The deployment's task queue: its workers' dispatchers deliver. */
  queue: string;
  order: OrderRow;
  type: PayoutType;
  /** The order id for the purchase, else the refund, chargeback or payment id. */
  movementId: string;
  invoiceId: string | null;
  /** The payout rows the movement wrote (only cross-client items have any). */
  items: Array<CallbackItem & { connectionId: string; sourceClientId: string }>;
  /** Which of the rows' connections have a callback, when the caller read it with the rows. */
  withCallback?: readonly string[];
}

/**
 * One delivery per connection with a callback among the movement's rows, with its body frozen:
 * every attempt sends the same bytes. Call inside the transaction that writes the rows; a movement
 * of an existing order must hold the order's row lock (sequence numbers are taken under it).
 */
export async function enqueueOrderCallbacks(trx: Transaction<Database>, m: OrderMovementForCallbacks): Promise<void> {
  const connectionIds = [...new Set(m.items.map((i) => i.connectionId))];
  if (connectionIds.length === 0) return;
  const withCallback = m.withCallback
    ? connectionIds.filter((id) => m.withCallback!.includes(id)).map((id) => ({ connection_id: id }))
    : await trx.selectFrom('connection_callbacks').select('connection_id').where('connection_id', 'in', connectionIds).execute();
  const callbackType = callbackTypeOf(m.type, m.type === 'PAYMENT' && m.movementId === m.order.order_id);
  for (const { connection_id: connectionId } of withCallback) {
    const items = m.items.filter((i) => i.connectionId === connectionId);
    const sourceClientId = items[0]!.sourceClientId;
    const claimCode = await claimCodeOf(trx, m.order.id, sourceClientId);
    const last = await trx
      .selectFrom('callback_deliveries')
      .select((eb) => eb.fn.max('sequence').as('sequence'))
      .where('connection_id', '=', connectionId)
      .where('order_ref', '=', m.order.id)
      .executeTakeFirst();
    const sequence = (last?.sequence ?? 0) + 1;
    const payload: CallbackPayload = {
      entityType: 'CROSS_CLIENT_ORDER',
      callbackType,
      entityId: m.order.id,
      entity: {
        id: m.order.id,
        orderId: m.order.order_id,
        sellerClientId: m.order.seller_client_id,
        sourceClientId,
        connectionId,
        subscriptionId: m.order.subscription_id,
        invoiceId: m.order.invoice_id,
        paymentMethod: m.order.payment_method,
        currency: m.order.currency.trim(),
        orderedAt: m.order.created_at.toISOString(),
        sequence,
        claimCode,
        movement: { type: m.type, id: m.movementId, invoiceId: m.invoiceId },
        items: items.map(({ connectionId: _c, sourceClientId: _s, ...item }) => item),
        totals: {
          amountMinor: items.reduce((sum, i) => sum + i.amountMinor, 0),
          shareMinor: items.reduce((sum, i) => sum + i.shareMinor, 0),
        },
      },
    };
    await trx
      .insertInto('callback_deliveries')
      .values({
        id: uuidv7(),
        queue: m.queue,
        connection_id: connectionId,
        order_ref: m.order.id,
        callback_type: callbackType,
        movement_id: m.movementId,
        sequence,
        body: JSON.stringify(payload),
        state: 'pending',
        give_up_at: retryWindow,
      })
      .onConflict((oc) => oc.columns(['connection_id', 'order_ref', 'callback_type', 'movement_id']).doNothing())
      .execute();
  }
}

/** The order's claim code for this source: made with its first callback, the same ever after. */
async function claimCodeOf(trx: Transaction<Database>, orderRef: string, sourceClientId: string): Promise<string> {
  await trx
    .insertInto('order_claims')
    .values({ code: randomBytes(18).toString('base64url'), order_ref: orderRef, source_client_id: sourceClientId })
    .onConflict((oc) => oc.columns(['order_ref', 'source_client_id']).doNothing())
    .execute();
  const row = await trx
    .selectFrom('order_claims')
    .select('code')
    .where('order_ref', '=', orderRef)
    .where('source_client_id', '=', sourceClientId)
    .executeTakeFirstOrThrow();
  return row.code;
}

// ---- the dispatcher's side ----

/** A connection's deliveries in flight at once, over all workers: a slow receiver holds no more slots. */
export const CALLBACKS_IN_FLIGHT_PER_CONNECTION = 4;

/** Claims up to `limit` due deliveries of `queue` for `token` (db/outbox.ts), fairly across connections. */
export const claimDueCallbacks = (db: Kysely<Database>, queue: string, token: string, limit: number, leaseMs: number): Promise<CallbackDeliveryRow[]> =>
  claimDue(db, 'callback_deliveries', queue, token, limit, leaseMs, { column: 'connection_id', max: CALLBACKS_IN_FLIGHT_PER_CONNECTION });

/** Keeps the claim while the request lasts; false when it was lost. */
export const renewCallbackLease = (db: Kysely<Database>, id: string, token: string, leaseMs: number): Promise<boolean> =>
  renewLease(db, 'callback_deliveries', id, token, leaseMs);

export interface AttemptOutcome {
  attempt: number;
  at: Date;
  latencyMs: number;
  statusCode: number | null;
  error: string | null;
  /** delivered (2xx), failed (for good), or retry after `delayMs`; a retry past the window fails. */
  outcome: 'delivered' | 'retry' | 'failed';
  delayMs?: number;
}

/**
 * The attempt's log line and the delivery's new state, in one transaction. An acknowledgement is
 * recorded even if the claim was lost meanwhile (it did arrive); anything else only under the claim.
 */
/**
 * Acknowledged deliveries and their log lines, many in one statement (the dispatcher's group
 * commit: under load one write records what several attempts got). An acknowledgement is recorded
 * even if the claim was lost meanwhile — it did arrive — exactly as `recordAttempt` does.
 */
export async function recordDeliveredMany(db: Kysely<Database>, acks: ReadonlyArray<{ deliveryId: string; attempt: number; at: Date; latencyMs: number; statusCode: number }>): Promise<void> {
  if (acks.length === 0) return;
  await sql`
    with acked as (
      select * from unnest(${acks.map((a) => a.deliveryId)}::uuid[], ${acks.map((a) => a.attempt)}::int[], ${acks.map((a) => a.at.toISOString())}::timestamptz[],
        ${acks.map((a) => a.latencyMs)}::int[], ${acks.map((a) => a.statusCode)}::int[]) as a(id, attempt, at, latency_ms, status_code)
    ), logged as (
      insert into callback_attempts (delivery_id, attempt, at, latency_ms, status_code, error, outcome)
      select id, attempt, at, latency_ms, status_code, null, 'delivered' from acked
      on conflict (delivery_id, attempt) do nothing
    )
    update callback_deliveries d set state = 'delivered', delivered_at = now(), lease_token = null, lease_until = null, last_error = null
    from acked where d.id = acked.id and d.state = 'pending'`.execute(db);
}

export async function recordAttempt(db: Kysely<Database>, delivery: CallbackDeliveryRow, token: string, a: AttemptOutcome): Promise<AttemptOutcome['outcome']> {
  return db.transaction().execute(async (trx) => {
    let outcome = a.outcome;
    let error = a.error;
    if (outcome === 'retry' && Date.now() + (a.delayMs ?? 0) > delivery.give_up_at.getTime()) {
      outcome = 'failed';
      error = `${error ?? 'not acknowledged'}; gave up: not acknowledged within 3 days`;
    }
    await trx
      .insertInto('callback_attempts')
      .values({ delivery_id: delivery.id, attempt: a.attempt, at: a.at, latency_ms: a.latencyMs, status_code: a.statusCode, error: error?.slice(0, 1000) ?? null, outcome })
      .onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing())
      .execute();
    const update = trx.updateTable('callback_deliveries').where('id', '=', delivery.id).where('state', '=', 'pending');
    if (outcome === 'delivered') {
      await update.set({ state: 'delivered', delivered_at: sql<Date>`now()`, lease_token: null, lease_until: null, last_error: null }).execute();
    } else if (outcome === 'failed') {
      await update.where('lease_token', '=', token).set({ state: 'failed', last_error: error, lease_token: null, lease_until: null }).execute();
    } else {
      await update
        .where('lease_token', '=', token)
        .set({ last_error: error, next_attempt_at: sql<Date>`now() + ${`${a.delayMs ?? 0} milliseconds`}::interval`, lease_token: null, lease_until: null })
        .execute();
    }
    return outcome;
  });
}

// ---- the source's view: log and redelivery ----

export async function listDeliveries(
  db: Kysely<Database>,
  query: { connectionId: string; cursor?: string; limit: number },
): Promise<{ items: Array<CallbackDeliveryRow & { attemptLog: CallbackAttemptRow[] }>; nextCursor: string | null }> {
  let q = db.selectFrom('callback_deliveries').selectAll().where('connection_id', '=', query.connectionId);
  if (query.cursor !== undefined) q = q.where('id', '<', decodeIdCursor(query.cursor));
  const rows = await q.orderBy('id', 'desc').limit(query.limit + 1).execute();
  const page = rows.slice(0, query.limit);
  const attempts =
    page.length === 0
      ? []
      : await db.selectFrom('callback_attempts').selectAll().where('delivery_id', 'in', page.map((r) => r.id)).orderBy('attempt').execute();
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({ ...r, attemptLog: attempts.filter((a) => a.delivery_id === r.id) })),
    nextCursor: rows.length > query.limit && last ? encodeIdCursor(last.id) : null,
  };
}

export async function attemptsOf(db: Kysely<Database>, deliveryId: string): Promise<CallbackAttemptRow[]> {
  return db.selectFrom('callback_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('attempt').execute();
}

export async function getDelivery(db: Kysely<Database>, connectionId: string, id: string): Promise<CallbackDeliveryRow | undefined> {
  return db.selectFrom('callback_deliveries').selectAll().where('id', '=', id).where('connection_id', '=', connectionId).executeTakeFirst();
}

/**
 * Due now again, with a fresh 3-day window, whatever its state; the same id and body. An attempt
 * in flight keeps its claim and finishes; its recorded outcome decides what follows.
 */
export async function redeliver(db: Kysely<Database>, connectionId: string, id: string): Promise<CallbackDeliveryRow | undefined> {
  return db
    .updateTable('callback_deliveries')
    .set({ state: 'pending', next_attempt_at: sql<Date>`now()`, give_up_at: retryWindow, delivered_at: null })
    .where('id', '=', id)
    .where('connection_id', '=', connectionId)
    .returningAll()
    .executeTakeFirst();
}

// ---- claims ----

export type ClaimOutcome =
  | { ok: true; orderId: string; subscriptionId: string | null }
  | { ok: false; reason: 'not-found' | 'claimed-by-other-customer' };

/**
 * The first claim of a code links it to the source's customer; the same claim again answers the
 * same; another customer for a claimed code is a conflict. A code of another source is not found.
 */
export async function claimOrder(db: Kysely<Database>, input: { code: string; sourceClientId: string; customerId: string }): Promise<ClaimOutcome> {
  return db.transaction().execute(async (trx) => {
    const claim = await trx
      .selectFrom('order_claims as c')
      .innerJoin('orders as o', 'o.id', 'c.order_ref')
      .select(['c.code', 'c.claimed_customer_id', 'o.order_id', 'o.subscription_id'])
      .where('c.code', '=', input.code)
      .where('c.source_client_id', '=', input.sourceClientId)
      .forUpdate('c')
      .executeTakeFirst();
    if (!claim) return { ok: false, reason: 'not-found' };
    if (claim.claimed_customer_id === null) {
      await trx.updateTable('order_claims').set({ claimed_customer_id: input.customerId, claimed_at: sql<Date>`now()` }).where('code', '=', input.code).execute();
    } else if (claim.claimed_customer_id !== input.customerId) {
      return { ok: false, reason: 'claimed-by-other-customer' };
    }
    return { ok: true, orderId: claim.order_id, subscriptionId: claim.subscription_id };
  });
}
