/** Payout rows for tests: clients over HTTP, and orders with one row each written straight to Postgres. */
import { randomUUID } from 'node:crypto';
import type { PaidStatus, PayoutType } from '../../domain/payout.ts';
import { companyOverHttp, type HttpParty as Party, type TestStack } from '../support/stack.ts';

export interface RowOptions {
  type?: PayoutType;
  paidStatus?: PaidStatus;
  createdAt?: string;
  amountMinor?: number;
  shareMinor?: number;
  currency?: string;
  costCenter?: string;
}

export function payoutFixtures(current: () => TestStack) {
  /** Three clients: A and B trade both ways, C is a stranger to them. */
  async function parties(n = 3): Promise<Party[]> {
    return (await companyOverHttp(current(), ['Quelle', 'Bote', 'Kurier', 'Fremd'].slice(0, n))).clients;
  }


  /** An order sold by `seller` and one payout row of the pair (source → seller); returns the row id. */
  async function row(source: Party, seller: Party, o: RowOptions = {}): Promise<string> {
    const { db } = current().engine.database;
    const orderRef = randomUUID();
    const orderId = `ord-${randomUUID()}`;
    const currency = o.currency ?? 'EUR';
    await db
      .insertInto('orders')
      .values({
        id: orderRef,
        seller_client_id: seller.id,
        order_id: orderId,
        cart_id: randomUUID(),
        customer_id: 'kunde-1',
        payment_method: 'PAYPAL',
        currency,
        items: '[]',
        request_hash: 'test',
      })
      .execute();
    const id = randomUUID();
    const amount = o.amountMinor ?? 1000;
    await db
      .insertInto('payout_rows')
      .values({
        id,
        type: o.type ?? 'PAYMENT',
        paid_status: o.paidStatus ?? 'OPEN',
        source_client_id: source.id,
        connected_client_id: seller.id,
        connection_id: randomUUID(),
        order_ref: orderRef,
        order_id: orderId,
        movement_id: orderId,
        offer_id: randomUUID(),
        cost_center: o.costCenter ?? 'KST-100',
        payment_method: 'PAYPAL',
        amount_minor: amount,
        currency,
        share_basis_points: 2000,
        share_minor: o.shareMinor ?? Math.round(amount * 0.2),
        rule_set_version: 'test',
        ...(o.createdAt ? { created_at: o.createdAt, changed_at: o.createdAt } : {}),
      })
      .execute();
    return id;
  }

  const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 0, minute)).toISOString();
  return { parties, row, at };
}
