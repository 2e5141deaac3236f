/**
 * Later money movements on an order over HTTP (issue 8): refunds, chargebacks and recurring
 * payments, their shares (never re-evaluated), their caps, idempotency on their ids, who may send
 * them, and the cap under concurrency. Orders and their original PAYMENT rows are inserted directly
 * (the purchase path is tested on its own).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { companyOverHttp, startTestStack, type HttpParty as Party, type TestStack } from '../support/stack.ts';
import { call } from './support.ts';

let stack: TestStack;
beforeAll(async () => void (stack = await startTestStack()));
afterAll(() => stack?.stop());

const db = () => stack.engine.database.db;
const post = (key: string, url: string, body: unknown) => call(stack.app, key, 'POST', url, body);
const errorOf = (res: { statusCode: number; json(): { error: { code: string; details?: Record<string, unknown> } } }) => ({
  status: res.statusCode,
  code: res.json().error.code,
});

interface Line {
  offerId?: string;
  amountMinor: number;
  /** Owner of a cross-client offer: the item gets an original PAYMENT row. Without it, an own offer. */
  source?: Party;
  bp?: number;
}

let orderCounter = 0;

/** An order of `seller` and the original PAYMENT row of each cross-client item, as the purchase path writes them. */
async function insertOrder(seller: Party, lines: Line[], options: { subscriptionId?: string | null; invoiceId?: string | null } = {}) {
  const orderRef = randomUUID();
  const orderId = `ord-${Date.now()}-${++orderCounter}`;
  const items = lines.map((l) => ({ offerId: l.offerId ?? randomUUID(), amountMinor: l.amountMinor }));
  const subscriptionId = options.subscriptionId === undefined ? 'sub-1' : options.subscriptionId;
  const invoiceId = options.invoiceId === undefined ? 'inv-1' : options.invoiceId;
  await db()
    .insertInto('orders')
    .values({
      id: orderRef,
      seller_client_id: seller.id,
      order_id: orderId,
      cart_id: randomUUID(),
      customer_id: 'cust-1',
      payment_method: 'PAYPAL',
      currency: 'EUR',
      subscription_id: subscriptionId,
      invoice_id: invoiceId,
      items: JSON.stringify(items),
      request_hash: 'test',
    })
    .execute();
  const originals: Record<string, string> = {};
  for (const [i, line] of lines.entries()) {
    if (!line.source) continue;
    const id = randomUUID();
    const bp = line.bp ?? 7000;
    originals[items[i]!.offerId] = id;
    await db()
      .insertInto('payout_rows')
      .values({
        id,
        type: 'PAYMENT',
        source_client_id: line.source.id,
        connected_client_id: seller.id,
        connection_id: randomUUID(),
        order_ref: orderRef,
        order_id: orderId,
        movement_id: orderId,
        reverses_row_id: null,
        subscription_id: subscriptionId,
        invoice_id: invoiceId,
        offer_id: items[i]!.offerId,
        cost_center: 'KST-100',
        payment_method: 'PAYPAL',
        amount_minor: line.amountMinor,
        currency: 'EUR',
        share_basis_points: bp,
        share_minor: Number((BigInt(line.amountMinor) * BigInt(bp) + 5000n) / 10000n),
        rule_set_version: 'rules-v1',
      })
      .execute();
  }
  return { orderRef, orderId, offerIds: items.map((i) => i.offerId), originals };
}

const rowsOf = (orderRef: string) => db().selectFrom('payout_rows').selectAll().where('order_ref', '=', orderRef).orderBy('created_at').orderBy('id').execute();
const movementsOf = (orderRef: string) => db().selectFrom('order_movements').selectAll().where('order_ref', '=', orderRef).execute();

let parties: { seller: Party; source: Party; other: Party; stranger: Party };
beforeAll(async () => {
  const { clients: [seller, source, other] } = await companyOverHttp(stack, ['Verkauf', 'Quelle', 'Andere']);
  const { clients: [stranger] } = await companyOverHttp(stack, ['Fremd']);
  parties = { seller: seller!, source: source!, other: other!, stranger: stranger! };
});

describe('reversals', () => {
  test('a refund reuses the basis points and version of the original payment and points to it', async () => {
    const { seller, source } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 1299, source, bp: 7000 }]);
    const offerId = order.offerIds[0]!;
    const res = await post(seller.apiKey, `/v1/orders/${order.orderId}/refunds`, { refundId: 'ref-1', items: [{ offerId, amountMinor: 1000 }] });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ orderId: order.orderId, refundId: 'ref-1' });
    expect(body.rows).toHaveLength(1);
    expect(body.rows[0]).toMatchObject({
      type: 'REFUND',
      paidStatus: 'OPEN',
      sourceClientId: source.id,
      connectedClientId: seller.id,
      orderId: order.orderId,
      offerId,
      amountMinor: 1000,
      currency: 'EUR',
      shareBasisPoints: 7000,
      shareMinor: 700,
      ruleSetVersion: 'rules-v1',
      invoiceId: 'inv-1',
      subscriptionId: 'sub-1',
    });
    expect(body.rows[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    const stored = (await rowsOf(order.orderRef)).find((r) => r.id === body.rows[0].id)!;
    expect(stored).toMatchObject({ movement_id: 'ref-1', reverses_row_id: order.originals[offerId] });
  });

  test('a chargeback gives LOSS rows the same way', async () => {
    const { seller, source } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 2000, source, bp: 2500 }]);
    const offerId = order.offerIds[0]!;
    const res = await post(seller.apiKey, `/v1/orders/${order.orderId}/chargebacks`, { chargebackId: 'cb-1', items: [{ offerId, amountMinor: 2000 }] });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ orderId: order.orderId, chargebackId: 'cb-1', rows: [{ type: 'LOSS', amountMinor: 2000, shareBasisPoints: 2500, shareMinor: 500 }] });
    const stored = (await rowsOf(order.orderRef)).find((r) => r.type === 'LOSS')!;
    expect(stored).toMatchObject({ movement_id: 'cb-1', reverses_row_id: order.originals[offerId] });
  });

  test('refunds and chargebacks together may reach what was paid, not one minor unit more', async () => {
    const { seller, source } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 1000, source }]);
    const offerId = order.offerIds[0]!;
    const url = `/v1/orders/${order.orderId}`;
    expect((await post(seller.apiKey, `${url}/refunds`, { refundId: 'r1', items: [{ offerId, amountMinor: 600 }] })).statusCode).toBe(201);
    expect((await post(seller.apiKey, `${url}/chargebacks`, { chargebackId: 'c1', items: [{ offerId, amountMinor: 400 }] })).statusCode).toBe(201);
    const before = { rows: (await rowsOf(order.orderRef)).length, movements: (await movementsOf(order.orderRef)).length };

    const over = await post(seller.apiKey, `${url}/refunds`, { refundId: 'r2', items: [{ offerId, amountMinor: 1 }] });
    expect(errorOf(over)).toEqual({ status: 422, code: 'REFUND_EXCEEDS_PAYMENT' });
    expect(over.json().error.details).toMatchObject({ offerId, paidMinor: 1000, reversedMinor: 1000, requestedMinor: 1 });
    const overCb = await post(seller.apiKey, `${url}/chargebacks`, { chargebackId: 'c2', items: [{ offerId, amountMinor: 1 }] });
    expect(errorOf(overCb)).toEqual({ status: 422, code: 'REFUND_EXCEEDS_PAYMENT' });
    expect({ rows: (await rowsOf(order.orderRef)).length, movements: (await movementsOf(order.orderRef)).length }).toEqual(before);
  });

  test('one item over its cap refuses the whole movement: nothing is written', async () => {
    const { seller, source } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 500, source }, { amountMinor: 300, source }]);
    const [a, b] = order.offerIds;
    const res = await post(seller.apiKey, `/v1/orders/${order.orderId}/refunds`, {
      refundId: 'r1',
      items: [{ offerId: a, amountMinor: 500 }, { offerId: b, amountMinor: 301 }],
    });
    expect(errorOf(res)).toEqual({ status: 422, code: 'REFUND_EXCEEDS_PAYMENT' });
    expect(res.json().error.details).toMatchObject({ offerId: b });
    expect(await rowsOf(order.orderRef)).toHaveLength(2);
    expect(await movementsOf(order.orderRef)).toHaveLength(0);
  });

  test('the reversed share never exceeds the paid share, whatever the rounding', async () => {
    const { seller, source } = parties;
    // 3 × 50 % = 1.5 → 2 paid; three refunds of 1 would round to 1 + 1 + 1 = 3 without the cap.
    const order = await insertOrder(seller, [{ amountMinor: 3, source, bp: 5000 }]);
    const offerId = order.offerIds[0]!;
    const shares: number[] = [];
    for (const refundId of ['r1', 'r2', 'r3']) {
      const res = await post(seller.apiKey, `/v1/orders/${order.orderId}/refunds`, { refundId, items: [{ offerId, amountMinor: 1 }] });
      expect(res.statusCode, res.body).toBe(201);
      shares.push(res.json().rows[0].shareMinor);
    }
    expect(shares).toEqual([1, 1, 0]);
    const rows = await rowsOf(order.orderRef);
    const paidShare = rows.filter((r) => r.type === 'PAYMENT').reduce((s, r) => s + Number(r.share_minor), 0);
    const reversedShare = rows.filter((r) => r.type !== 'PAYMENT').reduce((s, r) => s + Number(r.share_minor), 0);
    expect({ paidShare, reversedShare }).toEqual({ paidShare: 2, reversedShare: 2 });
  });

  test('an own-offer item is accepted without a row; an offer not in the order is 422 naming it', async () => {
    const { seller, source } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 1000 }, { amountMinor: 500, source }]);
    const [own, external] = order.offerIds;
    const ownOnly = await post(seller.apiKey, `/v1/orders/${order.orderId}/refunds`, { refundId: 'own', items: [{ offerId: own, amountMinor: 1000 }] });
    expect(ownOnly.statusCode, ownOnly.body).toBe(201);
    expect(ownOnly.json()).toEqual({ orderId: order.orderId, refundId: 'own', rows: [] });
    const both = await post(seller.apiKey, `/v1/orders/${order.orderId}/refunds`, {
      refundId: 'both',
      items: [{ offerId: own, amountMinor: 10 }, { offerId: external, amountMinor: 100 }],
    });
    expect(both.statusCode, both.body).toBe(201);
    expect(both.json().rows).toMatchObject([{ offerId: external, amountMinor: 100, shareMinor: 70 }]);

    const stranger = randomUUID();
    const res = await post(seller.apiKey, `/v1/orders/${order.orderId}/refunds`, { refundId: 'x', items: [{ offerId: external, amountMinor: 1 }, { offerId: stranger, amountMinor: 1 }] });
    expect(errorOf(res)).toEqual({ status: 422, code: 'ITEM_UNAVAILABLE' });
    expect(res.json().error.details).toMatchObject({ offerId: stranger });
    expect(await movementsOf(order.orderRef)).toHaveLength(2);
  });
});

describe('recurring payments', () => {
  test('a renewal adds PAYMENT rows with the original shares and raises what may be refunded', async () => {
    const { seller, source } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 1000, source, bp: 7000 }, { amountMinor: 500 }]);
    const [offerId, own] = order.offerIds;
    const url = `/v1/orders/${order.orderId}`;
    // Before the renewal, 1001 is more than was paid.
    expect(errorOf(await post(seller.apiKey, `${url}/refunds`, { refundId: 'early', items: [{ offerId, amountMinor: 1001 }] }))).toEqual({ status: 422, code: 'REFUND_EXCEEDS_PAYMENT' });

    const renewal = await post(seller.apiKey, `${url}/payments`, { paymentId: 'pay-2', invoiceId: 'inv-2', items: [{ offerId, amountMinor: 1499 }, { offerId: own, amountMinor: 500 }] });
    expect(renewal.statusCode, renewal.body).toBe(201);
    expect(renewal.json()).toMatchObject({
      orderId: order.orderId,
      paymentId: 'pay-2',
      rows: [{ type: 'PAYMENT', offerId, amountMinor: 1499, shareBasisPoints: 7000, shareMinor: 1049, ruleSetVersion: 'rules-v1', invoiceId: 'inv-2', subscriptionId: 'sub-1' }],
    });
    expect(renewal.json().rows).toHaveLength(1);
    const stored = (await rowsOf(order.orderRef)).find((r) => r.movement_id === 'pay-2')!;
    expect(stored).toMatchObject({ type: 'PAYMENT', reverses_row_id: null });

    // Without an invoice id the renewal keeps the order's.
    const third = await post(seller.apiKey, `${url}/payments`, { paymentId: 'pay-3', items: [{ offerId, amountMinor: 1 }] });
    expect(third.json().rows).toMatchObject([{ invoiceId: 'inv-1', shareMinor: 1 }]);

    // Now 1000 + 1499 + 1 = 2500 may be refunded, and no more; the share stays within 700 + 1049 + 1.
    expect((await post(seller.apiKey, `${url}/refunds`, { refundId: 'r1', items: [{ offerId, amountMinor: 2500 }] })).json().rows).toMatchObject([
      { amountMinor: 2500, shareMinor: 1750 },
    ]);
    expect(errorOf(await post(seller.apiKey, `${url}/chargebacks`, { chargebackId: 'c1', items: [{ offerId, amountMinor: 1 }] }))).toEqual({ status: 422, code: 'REFUND_EXCEEDS_PAYMENT' });
    const refund = (await rowsOf(order.orderRef)).find((r) => r.movement_id === 'r1')!;
    expect(refund.reverses_row_id).toBe(order.originals[offerId!]);
  });

  test('an order without a subscription has nothing to renew; the order id is not a payment id', async () => {
    const { seller, source } = parties;
    const plain = await insertOrder(seller, [{ amountMinor: 1000, source }], { subscriptionId: null });
    const res = await post(seller.apiKey, `/v1/orders/${plain.orderId}/payments`, { paymentId: 'p', items: [{ offerId: plain.offerIds[0], amountMinor: 1 }] });
    expect(errorOf(res)).toEqual({ status: 422, code: 'RULE_REJECTED' });
    const sub = await insertOrder(seller, [{ amountMinor: 1000, source }]);
    const same = await post(seller.apiKey, `/v1/orders/${sub.orderId}/payments`, { paymentId: sub.orderId, items: [{ offerId: sub.offerIds[0], amountMinor: 1 }] });
    expect(errorOf(same)).toEqual({ status: 409, code: 'ORDER_CONFLICT' });
    expect(await rowsOf(sub.orderRef)).toHaveLength(1);
  });
});

describe('idempotency on the movement id', () => {
  test('the same id with the same body answers the same body and writes nothing new', async () => {
    const { seller, source } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 1000, source }, { amountMinor: 800, source, bp: 1234 }]);
    const [a, b] = order.offerIds;
    const url = `/v1/orders/${order.orderId}/refunds`;
    const body = { refundId: 'r1', items: [{ offerId: a, amountMinor: 100 }, { offerId: b, amountMinor: 200 }] };
    const first = await post(seller.apiKey, url, body);
    expect(first.statusCode, first.body).toBe(201);
    const rowsAfterFirst = await rowsOf(order.orderRef);
    const again = await post(seller.apiKey, url, body);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    // The same request with the items (and keys) in another order is the same request.
    const reordered = await post(seller.apiKey, url, { items: [{ amountMinor: 200, offerId: b }, { offerId: a, amountMinor: 100 }], refundId: 'r1' });
    expect(reordered.statusCode).toBe(201);
    expect(new Set(reordered.json().rows.map((r: { id: string }) => r.id))).toEqual(new Set(first.json().rows.map((r: { id: string }) => r.id)));
    expect(await rowsOf(order.orderRef)).toEqual(rowsAfterFirst);
  });

  test('the same id with another body is 409 ORDER_CONFLICT; the id is per type', async () => {
    const { seller, source } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 1000, source }]);
    const offerId = order.offerIds[0]!;
    const url = `/v1/orders/${order.orderId}`;
    expect((await post(seller.apiKey, `${url}/refunds`, { refundId: 'x1', items: [{ offerId, amountMinor: 100 }] })).statusCode).toBe(201);
    const conflict = await post(seller.apiKey, `${url}/refunds`, { refundId: 'x1', items: [{ offerId, amountMinor: 101 }] });
    expect(errorOf(conflict)).toEqual({ status: 409, code: 'ORDER_CONFLICT' });
    const renewalConflict = await post(seller.apiKey, `${url}/payments`, { paymentId: 'p1', items: [{ offerId, amountMinor: 100 }] });
    expect(renewalConflict.statusCode).toBe(201);
    expect(errorOf(await post(seller.apiKey, `${url}/payments`, { paymentId: 'p1', invoiceId: 'other', items: [{ offerId, amountMinor: 100 }] }))).toEqual({ status: 409, code: 'ORDER_CONFLICT' });
    // A chargeback may carry the id of a refund.
    expect((await post(seller.apiKey, `${url}/chargebacks`, { chargebackId: 'x1', items: [{ offerId, amountMinor: 100 }] })).statusCode).toBe(201);
    expect(await rowsOf(order.orderRef)).toHaveLength(4);
  });
});

describe('who may', () => {
  test('another seller, the source and a stranger get 404; an unknown order 404; an operator 403', async () => {
    const { seller, source, other, stranger } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 1000, source }]);
    const offerId = order.offerIds[0]!;
    const refund = { refundId: 'r1', items: [{ offerId, amountMinor: 100 }] };
    for (const party of [source, other, stranger]) {
      for (const [path, body] of [
        ['refunds', refund],
        ['chargebacks', { chargebackId: 'c1', items: refund.items }],
        ['payments', { paymentId: 'p1', items: refund.items }],
      ] as const) {
        expect(errorOf(await post(party.apiKey, `/v1/orders/${order.orderId}/${path}`, body))).toEqual({ status: 404, code: 'NOT_FOUND' });
      }
    }
    expect(errorOf(await post(seller.apiKey, '/v1/orders/no-such-order/refunds', refund))).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(errorOf(await post(stack.operatorKey, `/v1/orders/${order.orderId}/refunds`, refund))).toEqual({ status: 403, code: 'FORBIDDEN_ACTOR' });
    expect(await rowsOf(order.orderRef)).toHaveLength(1);
  });

  test('bodies are strict and checked: 400 naming the field', async () => {
    const { seller, source } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 1000, source }]);
    const offerId = order.offerIds[0]!;
    const url = `/v1/orders/${order.orderId}/refunds`;
    for (const body of [
      { refundId: 'r1', items: [{ offerId, amountMinor: 0 }] },
      { refundId: 'r1', items: [] },
      { refundId: 'r 1', items: [{ offerId, amountMinor: 1 }] },
      { refundId: 'r1', items: [{ offerId, amountMinor: 1.5 }] },
      { refundId: 'r1', items: [{ offerId, amountMinor: 1 }], extra: true },
      { chargebackId: 'r1', items: [{ offerId, amountMinor: 1 }] },
    ]) {
      expect(errorOf(await post(seller.apiKey, url, body)), JSON.stringify(body)).toEqual({ status: 400, code: 'INVALID_REQUEST' });
    }
    // Valid by the document, refused by a rule across its items: 422 naming the rule and the item.
    const twice = await post(seller.apiKey, url, { refundId: 'r1', items: [{ offerId, amountMinor: 1 }, { offerId, amountMinor: 2 }] });
    expect(errorOf(twice)).toEqual({ status: 422, code: 'RULE_REJECTED' });
    expect(twice.json().error.details).toEqual({ rule: 'offer-once', field: 'items.1.offerId' });
    expect(await movementsOf(order.orderRef)).toHaveLength(0);
  });
});

describe('concurrency', () => {
  test('two concurrent refunds that together exceed the cap: exactly one succeeds', async () => {
    const { seller, source } = parties;
    for (let round = 0; round < 5; round++) {
      const order = await insertOrder(seller, [{ amountMinor: 1000, source }]);
      const offerId = order.offerIds[0]!;
      const url = `/v1/orders/${order.orderId}`;
      const results = await Promise.all([
        post(seller.apiKey, `${url}/refunds`, { refundId: 'a', items: [{ offerId, amountMinor: 600 }] }),
        round % 2
          ? post(seller.apiKey, `${url}/chargebacks`, { chargebackId: 'b', items: [{ offerId, amountMinor: 600 }] })
          : post(seller.apiKey, `${url}/refunds`, { refundId: 'b', items: [{ offerId, amountMinor: 600 }] }),
      ]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([201, 422]);
      expect(results.find((r) => r.statusCode === 422)!.json().error.code).toBe('REFUND_EXCEEDS_PAYMENT');
      const reversed = (await rowsOf(order.orderRef)).filter((r) => r.type !== 'PAYMENT');
      expect(reversed.map((r) => Number(r.amount_minor))).toEqual([600]);
      expect(await movementsOf(order.orderRef)).toHaveLength(1);
    }
  });

  test('the same new refund sent twice at once is recorded once', async () => {
    const { seller, source } = parties;
    const order = await insertOrder(seller, [{ amountMinor: 1000, source }]);
    const body = { refundId: 'twin', items: [{ offerId: order.offerIds[0], amountMinor: 400 }] };
    const [a, b] = await Promise.all([post(seller.apiKey, `/v1/orders/${order.orderId}/refunds`, body), post(seller.apiKey, `/v1/orders/${order.orderId}/refunds`, body)]);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.json()).toEqual(b.json());
    expect((await rowsOf(order.orderRef)).filter((r) => r.type === 'REFUND')).toHaveLength(1);
  });
});
