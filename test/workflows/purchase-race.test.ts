/**
 * A purchase racing a block of its connection, round after round, with the block sent a little
 * later each round. The connection's history decides: either the purchase's `authorizeSale` was
 * accepted BEFORE the block there and the purchase has its row, or the purchase was refused with
 * ITEM_UNAVAILABLE and wrote nothing — never a row for an item that could not be sold.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { saleUpdateId } from '../../workflows/messages.ts';
import { clientCalls } from '../api/support.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const ROUNDS = 15;
const { as, ok } = clientCalls(() => stack.app);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Accepted updates of the connection's history, in history order: [eventId, update id, update name]. */
async function acceptedUpdates(workflowId: string): Promise<Array<{ eventId: number; updateId: string; name: string }>> {
  const history = await stack.engine.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    if (!accepted) return [];
    return [{ eventId: Number(e.eventId), updateId: accepted.acceptedRequest?.meta?.updateId ?? '', name: accepted.acceptedRequest?.input?.name ?? '' }];
  });
}

test(`a purchase racing a block of its connection (${ROUNDS} rounds): authorized before the block with its row, or refused with nothing written`, { timeout: 240_000 }, async () => {
  const company = await companyOverHttp(stack, ['Quelle', 'Verkauf']);
  const [source, seller] = company.clients as [HttpParty, HttpParty];
  const connection = await ok(source, 'POST', '/v1/connections', { targetClientId: seller.id, offerAccess: true }, 201);
  await ok(seller, 'POST', `/v1/connections/${connection.id}/accept`);
  const offer = (owner: HttpParty, body: object) =>
    ok(owner, 'POST', '/v1/offers', { priceMinor: 999, currency: 'EUR', crossClient: false, products: [{ name: 'Abo', costCenter: 'KST-1' }], ...body }, 201);
  const external = await offer(source, { title: 'Partnerabo', priceMinor: 1999, crossClient: true, connectedClientIds: [seller.id] });
  const own = await offer(seller, { title: 'Hausabo' });
  const draft = await ok(seller, 'POST', '/v1/carts', { title: 'Kombi', items: [{ offerId: own.id, mandatory: true }, { offerId: external.id, mandatory: false }] }, 201);
  const cart = await ok(seller, 'POST', `/v1/carts/${draft.id}/activate`);
  const db = stack.engine.database.db;

  const outcomes = { authorizedBeforeBlock: 0, refused: 0, refusedByPrecheck: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const orderId = `R${round}-${randomUUID().slice(0, 8)}`;
    const body = { orderId, customerId: 'K', paymentMethod: 'CREDIT_CARD', currency: 'EUR', items: [{ offerId: own.id, amountMinor: 999 }, { offerId: external.id, amountMinor: 1999 }] };
    const blockDelayMs = round * 25; // from "block first" to "purchase well under way"
    const [purchase] = await Promise.all([
      as(seller, 'POST', `/v1/carts/${cart.id}/purchases`, body),
      sleep(blockDelayMs).then(() => ok(source, 'POST', `/v1/connections/${connection.id}/block`)),
    ]);

    const updates = await acceptedUpdates(connection.workflowId);
    const sale = updates.find((u) => u.updateId === saleUpdateId(seller.id, orderId, connection.id));
    const block = updates.filter((u) => u.name === 'block').at(-1)!;
    const rows = await db.selectFrom('payout_rows').selectAll().where('connected_client_id', '=', seller.id).where('order_id', '=', orderId).execute();
    const orders = await db.selectFrom('orders').select('id').where('seller_client_id', '=', seller.id).where('order_id', '=', orderId).execute();
    if (purchase.statusCode === 201) {
      expect(sale, `round ${round}: a recorded purchase was authorized`).toBeDefined();
      expect(sale!.eventId, `round ${round}: authorized before the block`).toBeLessThan(block.eventId);
      expect(rows).toHaveLength(1);
      expect(orders).toHaveLength(1);
      expect(purchase.json().payouts).toHaveLength(1);
      outcomes.authorizedBeforeBlock += 1;
    } else {
      expect([purchase.statusCode, purchase.json().error.code], purchase.body).toEqual([422, 'ITEM_UNAVAILABLE']);
      expect(sale, `round ${round}: a refused purchase was never authorized`).toBeUndefined();
      expect(rows).toHaveLength(0);
      expect(orders).toHaveLength(0);
      // refused before any workflow (the cart already knew), or by the connection / the read model
      const run = await stack.engine.client.workflow.getHandle(`purchase:${seller.id}:${orderId}`).describe().catch(() => null);
      if (run) {
        expect(run.status.name).toBe('FAILED');
        outcomes.refused += 1;
      } else {
        outcomes.refusedByPrecheck += 1;
      }
    }

    await ok(source, 'POST', `/v1/connections/${connection.id}/unblock`);
    await expect
      .poll(async () => (await ok(seller, 'GET', `/v1/carts/${cart.id}`)).items.find((i: { offerId: string }) => i.offerId === external.id).available, {
        timeout: 20_000,
        interval: 50,
      })
      .toBe(true);
  }
  console.log(`[purchase-race] ${ROUNDS} rounds: ${JSON.stringify(outcomes)}`);
  expect(outcomes.authorizedBeforeBlock + outcomes.refused + outcomes.refusedByPrecheck).toBe(ROUNDS);
});
