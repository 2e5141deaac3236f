/**
 * The change feed (GET /v1/events) read the way a checkout would: through the typed client, a
 * page at a time, resuming from the cursor it saved after each page — while a connection goes
 * through its lifecycle, a cart is suspended by a block and a purchase lands. Every change of the
 * read model appears once, in order, for each client that may see it, and only for those.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CcxClient } from '../../api/client/index.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { expectStatus as ok, typedClient } from '../support/typed-client.ts';

interface FeedItem {
  seq: string;
  type: string;
  entityId: string;
  data: Record<string, unknown>;
}

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

/** A consumer that keeps only its saved cursor between reads, like a process that restarts. */
function consumer(api: CcxClient, pageSize: number) {
  const seen: FeedItem[] = [];
  let saved: string | undefined;
  return {
    seen,
    async drain() {
      for (;;) {
        const page = await ok(api.GET('/v1/events', { params: { query: { limit: pageSize, ...(saved ? { after: saved } : {}) } } }), 200);
        seen.push(...(page.items as FeedItem[]));
        saved = page.nextCursor ?? undefined;
        if (page.items.length < pageSize) return;
      }
    },
  };
}

const position = (seq: string) => seq.split('-').map(BigInt) as [bigint, bigint];
const before = (a: string, b: string) => {
  const [ax, ai] = position(a);
  const [bx, bi] = position(b);
  return ax < bx || (ax === bx && ai < bi);
};

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

describe('the change feed', () => {
  test('shows a lifecycle, a cart suspension and a purchase exactly once, in order, across resumed reads', async () => {
    const operator = typedClient(() => stack.app, stack.operatorKey);
    const company = await ok(operator.POST('/v1/contracting-companies', { body: { name: 'Feedverlag' } }), 201);
    await ok(operator.PUT('/v1/contracting-companies/{id}/modules/{module}', { params: { path: { id: company.id, module: 'CROSS_CLIENT_CONNECTIONS' } } }), 204);
    const client = async (name: string) => {
      const body = { contractingCompanyId: company.id, name, email: `${name.toLowerCase()}.${company.id.toLowerCase()}@example.test`, language: 'de' as const };
      const created = await ok(operator.POST('/v1/clients', { body }), 201);
      return { id: created.client.id, api: typedClient(() => stack.app, created.apiKey!) };
    };
    const source = await client('Quelle');
    const seller = await client('Verkauf');
    const stranger = await client('Fremd');
    // Small pages: every read of the seller's feed resumes from a cursor saved after a page.
    const sellerFeed = consumer(seller.api, 2);
    const sourceFeed = consumer(source.api, 3);
    const step = async <T>(work: Promise<T>): Promise<T> => {
      const result = await work;
      await sellerFeed.drain();
      await sourceFeed.drain();
      return result;
    };

    const invited = await step(ok(source.api.POST('/v1/connections', { body: { targetClientId: seller.id, offerAccess: true } }), 201));
    const connection = { params: { path: { id: invited.id } } };
    await step(ok(seller.api.POST('/v1/connections/{id}/accept', connection), 200));
    const offer = (owner: typeof source, title: string, sharedWith: string[]) =>
      ok(owner.api.POST('/v1/offers', {
        body: { title, priceMinor: 900, currency: 'EUR', crossClient: sharedWith.length > 0, ...(sharedWith.length > 0 ? { connectedClientIds: sharedWith } : {}), products: [{ name: title, costCenter: 'K1' }] },
      }), 201);
    const shared = await step(offer(source, 'Geteiltes Abo', [seller.id]));
    const own = await step(offer(seller, 'Eigenes Abo', []));
    const items = [
      { offerId: own.id, mandatory: true },
      { offerId: shared.id, mandatory: true },
    ];
    const cart = await step(ok(seller.api.POST('/v1/carts', { body: { title: 'Kombi', items } }), 201));
    const cartPath = { params: { path: { id: cart.id } } };
    await step(ok(seller.api.POST('/v1/carts/{id}/activate', cartPath), 200));
    const order = await step(
      ok(seller.api.POST('/v1/carts/{id}/purchases', {
        ...cartPath,
        body: { orderId: `feed-${cart.id}`, customerId: 'k1', paymentMethod: 'PAYPAL', currency: 'EUR', items: items.map((i) => ({ offerId: i.offerId, amountMinor: 900 })) },
      }), 201),
    );
    // The block suspends the cart (through the pair's fan-out, asynchronously); the unblock brings it back.
    const cartStatus = () => ok(seller.api.GET('/v1/carts/{id}', cartPath), 200);
    await step(ok(seller.api.POST('/v1/connections/{id}/block', connection), 200));
    expect((await step(eventually(cartStatus, (c) => c.status === 'suspended'))).status).toBe('suspended');
    await step(ok(seller.api.POST('/v1/connections/{id}/unblock', connection), 200));
    expect((await step(eventually(cartStatus, (c) => c.status === 'active'))).status).toBe('active');
    await step(ok(source.api.PUT('/v1/payouts/{id}/paid-status', { params: { path: { id: order.payouts[0]!.id } }, body: { paidStatus: 'PAID' } }), 200));
    await step(ok(source.api.POST('/v1/connections/{id}/end', connection), 200));
    const finalCart = await step(eventually(cartStatus, (c) => c.status === 'suspended'));

    // Exactly once and in order: the resumed reads are one read from the start, positions ascend.
    for (const [feed, api] of [[sellerFeed, seller.api], [sourceFeed, source.api]] as const) {
      // A row waits while any older transaction in the database runs (other test files share it):
      // the consumer catches up by reading on from its cursor, as a real one would.
      const whole = await eventually(
        async () => {
          await feed.drain();
          return ok(api.GET('/v1/events', { params: { query: { limit: 100 } } }), 200);
        },
        (page) => page.items.length === feed.seen.length,
      );
      expect(feed.seen).toEqual(whole.items);
      expect(new Set(feed.seen.map((e) => e.seq)).size).toBe(feed.seen.length);
      feed.seen.slice(1).forEach((e, i) => expect(before(feed.seen[i]!.seq, e.seq), `${feed.seen[i]!.seq} before ${e.seq}`).toBe(true));
    }

    // Every transition of the connection, as its history tells them, to both parties.
    const history = (await ok(seller.api.GET('/v1/connections/{id}', connection), 200)).history;
    const connectionEvents = (feed: FeedItem[]) => feed.filter((e) => e.type === 'connection.changed' && e.entityId === invited.id).map((e) => `${e.data.event}:${e.data.status}`);
    const told = history.map((h) => `${h.event}:${h.to}`);
    expect(told).toEqual(['invite:invited', 'accept:active', 'block:blocked', 'unblock:active', 'end:ended']);
    expect(connectionEvents(sellerFeed.seen)).toEqual(told);
    expect(connectionEvents(sourceFeed.seen)).toEqual(told);

    // The cart: each recorded version once, ascending, through the suspension and back, to the seller alone.
    const cartEvents = sellerFeed.seen.filter((e) => e.type === 'cart.changed' && e.entityId === cart.id);
    const versions = cartEvents.map((e) => e.data.version as number);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(versions.at(-1)).toBe(finalCart.version);
    const statuses = cartEvents.map((e) => e.data.status).filter((s, i, all) => s !== all[i - 1]);
    expect(statuses).toEqual(['draft', 'active', 'suspended', 'active', 'suspended']);
    expect(sourceFeed.seen.some((e) => e.type === 'cart.changed' || e.type.startsWith('order.'))).toBe(false);

    // The purchase: the order to the seller, its payout row created and paid to both parties.
    expect(sellerFeed.seen.filter((e) => e.type === 'order.recorded').map((e) => e.entityId)).toEqual([order.orderId]);
    const rowId = order.payouts[0]!.id;
    for (const feed of [sellerFeed, sourceFeed]) {
      expect(feed.seen.filter((e) => e.entityId === rowId).map((e) => `${e.type}:${e.data.paidStatus}`)).toEqual(['payout.created:OPEN', 'payout.paid:PAID']);
    }
    // The order comes after the cart was activated, the suspension after the block.
    const at = (pred: (e: FeedItem) => boolean) => sellerFeed.seen.findIndex(pred);
    expect(at((e) => e.type === 'order.recorded')).toBeGreaterThan(at((e) => e.type === 'cart.changed' && e.data.status === 'active'));
    expect(at((e) => e.type === 'cart.changed' && e.data.status === 'suspended')).toBeGreaterThan(at((e) => e.data.event === 'block'));

    // Nobody else's: the stranger's feed is empty.
    expect((await ok(stranger.api.GET('/v1/events'), 200)).items).toEqual([]);
  });

  test('a cursor that is not a feed position is refused with 400; one past the end reads nothing', async () => {
    const operator = typedClient(() => stack.app, stack.operatorKey);
    const company = await ok(operator.POST('/v1/contracting-companies', { body: { name: 'Cursorverlag' } }), 201);
    const created = await ok(operator.POST('/v1/clients', { body: { contractingCompanyId: company.id, name: 'C', email: 'c@example.test', language: 'en' } }), 201);
    const api = typedClient(() => stack.app, created.apiKey!);
    for (const after of ['abc', '1-', '-1', '1-2-3', '123456789012345678901-1', '1-12345678901234567890']) {
      const { response, error } = await api.GET('/v1/events', { params: { query: { after } } });
      expect(response.status, after).toBe(400);
      expect((error as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
    }
    const beyond = await ok(api.GET('/v1/events', { params: { query: { after: '99999999999999999999-9999999999999999999' } } }), 200);
    expect(beyond).toEqual({ items: [], nextCursor: '99999999999999999999-9999999999999999999' });
  });
});
