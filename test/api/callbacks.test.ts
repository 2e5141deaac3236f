/**
 * Callbacks to the source end to end (issue 14): a cross-company connection with a callback to a
 * real HTTP receiver in this process, purchases and movements through the API, the workers'
 * dispatcher delivering — signed, retried, failed for good, redelivered, logged — and claims.
 * The receiver verifies every request with the example of docs/callbacks.md, run as written.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { purchaseWorkflowId } from '../../workflows/purchase.messages.ts';
import { startCallbackReceiver, type CallbackReceiver, type ReceivedCallback } from '../support/callback-receiver.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';
import { clientCalls } from './support.ts';

type Verify = (input: { headers: ReceivedCallback['headers']; rawBody: string; secret: string; seen: Set<string> }) =>
  { ok: true; duplicate: boolean; payload: any } | { ok: false; reason: string };

const SECRET = `whsec-${randomUUID()}`;
const logLines: string[] = [];
let stack: TestStack;
let receiver: CallbackReceiver;
let verifyCallback: Verify;
const consoleLines: string[] = [];
const originals = { log: console.log, warn: console.warn, error: console.error, info: console.info };
// Below console: what writes to the streams itself (the Temporal SDK's default logger does).
const streamWrites = { stdout: process.stdout.write, stderr: process.stderr.write };

beforeAll(async () => {
  // Everything printed while the tests run is searched for the secret at the end.
  for (const name of ['log', 'warn', 'error', 'info'] as const) {
    console[name] = (...args: unknown[]) => {
      consoleLines.push(args.map(String).join(' '));
      originals[name](...args);
    };
  }
  for (const name of ['stdout', 'stderr'] as const) {
    const original = streamWrites[name];
    process[name].write = ((chunk: unknown, ...rest: unknown[]) => {
      consoleLines.push(String(chunk));
      return (original as (...a: unknown[]) => boolean).call(process[name], chunk, ...rest);
    }) as typeof process.stdout.write;
  }
  receiver = await startCallbackReceiver();
  stack = await startTestStack({ callbacks: { log: (line) => logLines.push(line) } });
  // The verification example of docs/callbacks.md, exactly as documented.
  const doc = readFileSync(path.join(import.meta.dirname, '../../docs/callbacks.md'), 'utf8');
  const example = /```js verify-callback\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!example) throw new Error('docs/callbacks.md has no `js verify-callback` example');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ccx-verify-')), 'verify.mjs');
  writeFileSync(file, example);
  ({ verifyCallback } = (await import(pathToFileURL(file).href)) as { verifyCallback: Verify });
});
afterAll(async () => {
  Object.assign(console, originals);
  process.stdout.write = streamWrites.stdout;
  process.stderr.write = streamWrites.stderr;
  await stack?.stop();
  await receiver?.stop();
});

const { as, ok } = clientCalls(() => stack.app);

/** A source and a seller of two contracting companies, connected with a callback to `path` of the receiver. */
async function world(hookPath: string) {
  const [source] = (await companyOverHttp(stack, ['Quelle'])).clients as [HttpParty];
  const [seller, stranger] = (await companyOverHttp(stack, ['Verkauf', 'Fremder'])).clients as [HttpParty, HttpParty];
  const connection = await ok(source, 'POST', '/v1/connections', {
    targetClientId: seller.id, offerAccess: true, callback: { url: receiver.url(`${hookPath}?token=abc`), secret: SECRET },
  }, 201);
  await ok(seller, 'POST', `/v1/connections/${connection.id}/accept`);
  const ext = await ok(source, 'POST', '/v1/offers', {
    title: 'Partnerabo', priceMinor: 1999, currency: 'EUR', crossClient: true, connectedClientIds: [seller.id], products: [{ name: 'Digital', costCenter: 'KST-A' }],
  }, 201);
  const own = await ok(seller, 'POST', '/v1/offers', { title: 'Hausabo', priceMinor: 999, currency: 'EUR', crossClient: false, products: [{ name: 'Abo', costCenter: 'KST-1' }] }, 201);
  const draft = await ok(seller, 'POST', '/v1/carts', { title: 'Kombi', items: [{ offerId: own.id, mandatory: true }, { offerId: ext.id, mandatory: false }] }, 201);
  const cart = await ok(seller, 'POST', `/v1/carts/${draft.id}/activate`);
  const purchase = (orderId: string) =>
    ok(seller, 'POST', `/v1/carts/${cart.id}/purchases`, {
      orderId, customerId: 'KUNDE-4711-GEHEIM', paymentMethod: 'PAYPAL', currency: 'EUR', subscriptionId: `SUB-${orderId}`,
      items: [{ offerId: own.id, amountMinor: 999 }, { offerId: ext.id, amountMinor: 1999 }],
    }, 201);
  return { source, seller, stranger, connection, ext, own, cart, purchase };
}

/** A history as text, its payloads (bytes) decoded, so a secret in any payload would show. */
const readable = (history: unknown) =>
  JSON.stringify(history, (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string') return Buffer.from(value, 'base64').toString('utf8'); // payload bytes
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    const v = value as { type?: unknown; data?: unknown };
    if (v && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data as number[]).toString('utf8');
    return value;
  });
const onPath = (p: string) => (r: ReceivedCallback) => r.path.startsWith(p);
const deliveriesOf = async (source: HttpParty, connectionId: string) => (await ok(source, 'GET', `/v1/connections/${connectionId}/callbacks`)).items as any[];
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('callbacks', () => {
  test('a purchase is delivered, signed: the documented verification accepts it, and only the source\'s data travels', async () => {
    const w = await world('/purchase');
    const order = await w.purchase('A-1');
    const [request] = await receiver.waitFor(onPath('/purchase'));
    const seen = new Set<string>();
    const verdict = verifyCallback({ headers: request!.headers, rawBody: request!.body, secret: SECRET, seen });
    expect(verdict).toMatchObject({ ok: true, duplicate: false });
    expect(verifyCallback({ headers: request!.headers, rawBody: request!.body, secret: 'another secret of 16+', seen: new Set() })).toMatchObject({ ok: false });
    expect(verifyCallback({ headers: request!.headers, rawBody: request!.body.replace('1999', '1998'), secret: SECRET, seen: new Set() })).toMatchObject({ ok: false });
    expect(request!.path).toBe('/purchase?token=abc');
    expect(request!.headers['x-ccx-event']).toBe('ORDER_PURCHASED');
    expect(request!.headers['x-ccx-sequence']).toBe('1');
    const payload = JSON.parse(request!.body);
    expect(payload).toMatchObject({
      entityType: 'CROSS_CLIENT_ORDER', callbackType: 'ORDER_PURCHASED', entityId: order.id,
      entity: {
        id: order.id, orderId: 'A-1', sellerClientId: w.seller.id, sourceClientId: w.source.id, connectionId: w.connection.id,
        subscriptionId: 'SUB-A-1', paymentMethod: 'PAYPAL', currency: 'EUR', sequence: 1, movement: { type: 'PAYMENT', id: 'A-1' },
        items: [{ offerId: w.ext.id, costCenter: 'KST-A', amountMinor: 1999, shareBasisPoints: order.payouts[0].shareBasisPoints, payoutId: order.payouts[0].id }],
        totals: { amountMinor: 1999 },
      },
    });
    expect(payload.entity.claimCode).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(request!.body).not.toContain('KUNDE-4711-GEHEIM');
    expect(request!.body).not.toContain(w.own.id); // the seller's own offer is none of the source's business

    const [delivery] = await eventually(() => deliveriesOf(w.source, w.connection.id), (d) => d[0]?.state === 'delivered');
    expect(delivery).toMatchObject({ id: request!.headers['x-ccx-delivery'], state: 'delivered', callbackType: 'ORDER_PURCHASED', orderId: 'A-1', sequence: 1 });
    expect(delivery.log).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, outcome: 'delivered', error: null })]);
    expect(delivery.log[0].latencyMs).toBeGreaterThanOrEqual(0);
  });

  test('refund, chargeback and renewal follow with the next sequence numbers and their own types', async () => {
    const w = await world('/movements');
    await w.purchase('M-1');
    await receiver.waitFor(onPath('/movements'));
    const items = [{ offerId: w.ext.id, amountMinor: 100 }];
    await ok(w.seller, 'POST', '/v1/orders/M-1/refunds', { refundId: 'R-1', items }, 201);
    await ok(w.seller, 'POST', '/v1/orders/M-1/chargebacks', { chargebackId: 'C-1', items }, 201);
    await ok(w.seller, 'POST', '/v1/orders/M-1/payments', { paymentId: 'P-2', invoiceId: 'INV-2', items: [{ offerId: w.ext.id, amountMinor: 1999 }] }, 201);
    // An item of the seller's own only: nothing for the source.
    await ok(w.seller, 'POST', '/v1/orders/M-1/refunds', { refundId: 'R-OWN', items: [{ offerId: w.own.id, amountMinor: 1 }] }, 201);
    const got = await receiver.waitFor(onPath('/movements'), 4);
    const bodies = got.map((r) => JSON.parse(r.body)).sort((a, b) => a.entity.sequence - b.entity.sequence);
    expect(bodies.map((b) => [b.entity.sequence, b.callbackType, b.entity.movement.type, b.entity.movement.id])).toEqual([
      [1, 'ORDER_PURCHASED', 'PAYMENT', 'M-1'],
      [2, 'ORDER_REFUNDED', 'REFUND', 'R-1'],
      [3, 'ORDER_CHARGED_BACK', 'LOSS', 'C-1'],
      [4, 'ORDER_RENEWED', 'PAYMENT', 'P-2'],
    ]);
    expect(bodies[3].entity.movement.invoiceId).toBe('INV-2');
    expect(new Set(bodies.map((b) => b.entity.claimCode)).size).toBe(1);
    expect(await deliveriesOf(w.source, w.connection.id)).toHaveLength(4);
  });

  test('a receiver answering 503 for a while, then 200: delivered, one delivery id across the attempts, every attempt logged', async () => {
    const w = await world('/flaky');
    receiver.answer((r) => (r.path.startsWith('/flaky') && receiver.received.filter(onPath('/flaky')).length <= 2 ? 503 : 200));
    try {
      await w.purchase('F-1');
      const got = await receiver.waitFor(onPath('/flaky'), 3);
      expect(new Set(got.map((r) => r.headers['x-ccx-delivery'])).size).toBe(1);
      expect(new Set(got.map((r) => r.body)).size).toBe(1); // the same bytes each time
      for (const r of got) expect(verifyCallback({ headers: r.headers, rawBody: r.body, secret: SECRET, seen: new Set() }).ok).toBe(true);
      const [delivery] = await eventually(() => deliveriesOf(w.source, w.connection.id), (d) => d[0]?.state === 'delivered');
      expect(delivery.state).toBe('delivered');
      expect(delivery.log.map((a: any) => [a.attempt, a.statusCode, a.outcome])).toEqual([
        [1, 503, 'retry'],
        [2, 503, 'retry'],
        [3, 200, 'delivered'],
      ]);
      expect(delivery.log[0].error).toBe('answered 503');
    } finally {
      receiver.answer(() => 200);
    }
  });

  test('410 fails the delivery for good: no more attempts; redelivery sends it again with the same id, logged', async () => {
    const w = await world('/gone');
    let gone = true;
    receiver.answer((r) => (r.path.startsWith('/gone') && gone ? 410 : 200));
    try {
      await w.purchase('G-1');
      const [first] = await receiver.waitFor(onPath('/gone'));
      const [failed] = await eventually(() => deliveriesOf(w.source, w.connection.id), (d) => d[0]?.state === 'failed');
      expect(failed).toMatchObject({ state: 'failed', attempts: 1, nextAttemptAt: null, lastError: 'answered 410' });
      // Several dispatcher passes later (they run every 100 ms), still one request.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(receiver.received.filter(onPath('/gone'))).toHaveLength(1);

      gone = false;
      // Only the source redelivers; a stranger does not see the connection.
      expect((await as(w.seller, 'POST', `/v1/connections/${w.connection.id}/callbacks/${failed.id}/redeliver`)).statusCode).toBe(403);
      expect((await as(w.stranger, 'POST', `/v1/connections/${w.connection.id}/callbacks/${failed.id}/redeliver`)).statusCode).toBe(404);
      expect((await as(w.source, 'POST', `/v1/connections/${w.connection.id}/callbacks/${randomUUID()}/redeliver`)).statusCode).toBe(404);
      const again = await ok(w.source, 'POST', `/v1/connections/${w.connection.id}/callbacks/${failed.id}/redeliver`, undefined, 202);
      expect(again).toMatchObject({ id: failed.id, state: 'pending' });
      const both = await receiver.waitFor(onPath('/gone'), 2);
      expect(both[1]!.headers['x-ccx-delivery']).toBe(first!.headers['x-ccx-delivery']);
      const [delivered] = await eventually(() => deliveriesOf(w.source, w.connection.id), (d) => d[0]?.state === 'delivered');
      expect(delivered.log.map((a: any) => [a.attempt, a.statusCode, a.outcome])).toEqual([
        [1, 410, 'failed'],
        [2, 200, 'delivered'],
      ]);
    } finally {
      receiver.answer(() => 200);
    }
  });

  test('the source changes URL and secret without ending the connection; the target sees the URL without its query, and may not change or read it', async () => {
    const w = await world('/old');
    const newSecret = `whsec-new-${randomUUID()}`;
    const before = await ok(w.source, 'GET', `/v1/connections/${w.connection.id}`);
    const changed = await ok(w.source, 'PUT', `/v1/connections/${w.connection.id}/callback`, { url: receiver.url('/new?token=xyz'), secret: newSecret });
    expect(changed).toMatchObject({ id: w.connection.id, status: 'active', version: before.version, callback: { url: receiver.url('/new?token=xyz') } });
    expect(JSON.stringify(changed)).not.toContain(newSecret);
    const asTarget = await ok(w.seller, 'GET', `/v1/connections/${w.connection.id}`);
    expect(asTarget.callback).toEqual({ url: receiver.url('/new') });
    expect((await as(w.seller, 'PUT', `/v1/connections/${w.connection.id}/callback`, { url: receiver.url('/evil'), secret: 'x'.repeat(16) })).statusCode).toBe(403);
    expect((await as(w.seller, 'GET', `/v1/connections/${w.connection.id}/callbacks`)).statusCode).toBe(403);
    expect((await as(w.stranger, 'GET', `/v1/connections/${w.connection.id}/callbacks`)).statusCode).toBe(404);
    const bad = await as(w.source, 'PUT', `/v1/connections/${w.connection.id}/callback`, { url: 'https://user:pw@example.com/cb', secret: 'x'.repeat(16) });
    expect(bad.statusCode).toBe(400);
    // A command's answer shows the URL in force, not the one of the invitation the workflow knows.
    const commanded = await ok(w.source, 'PATCH', `/v1/connections/${w.connection.id}`, { offerAccess: true });
    expect(commanded.callback).toEqual({ url: receiver.url('/new?token=xyz') });

    await w.purchase('N-1');
    const [request] = await receiver.waitFor(onPath('/new'));
    expect(verifyCallback({ headers: request!.headers, rawBody: request!.body, secret: newSecret, seen: new Set() }).ok).toBe(true);
    expect(receiver.received.filter(onPath('/old'))).toHaveLength(0);
  });

  test('claims: the source links the order to its own customer; the same claim answers the same; anyone else gets 404', async () => {
    const w = await world('/claims');
    await w.purchase('C-1');
    const [request] = await receiver.waitFor(onPath('/claims'));
    const code = JSON.parse(request!.body).entity.claimCode as string;
    const answer = await ok(w.source, 'POST', '/v1/claims', { code, customerId: 'QUELLE-KUNDE-1' });
    expect(answer).toEqual({ orderId: 'C-1', subscriptionId: 'SUB-C-1' });
    expect(JSON.stringify(answer)).not.toContain('KUNDE-4711');
    expect(await ok(w.source, 'POST', '/v1/claims', { code, customerId: 'QUELLE-KUNDE-1' })).toEqual(answer);
    const other = await as(w.source, 'POST', '/v1/claims', { code, customerId: 'QUELLE-KUNDE-2' });
    expect([other.statusCode, other.json().error.code]).toEqual([409, 'ORDER_CONFLICT']);
    for (const client of [w.seller, w.stranger]) {
      const res = await as(client, 'POST', '/v1/claims', { code, customerId: 'QUELLE-KUNDE-1' });
      expect([res.statusCode, res.json().error.code]).toEqual([404, 'NOT_FOUND']);
    }
    expect((await as(w.source, 'POST', '/v1/claims', { code: 'no-such-code', customerId: 'X' })).statusCode).toBe(404);
  });

  // Last: it searches what the tests above left behind.
  test('the secret appears nowhere in Temporal histories or logs', async () => {
    const w = await world('/histories');
    await w.purchase('H-1');
    await receiver.waitFor(onPath('/histories'));
    const histories: string[] = [];
    for await (const execution of stack.engine.client.workflow.list({ query: `TaskQueue = '${stack.engine.taskQueue}'` })) {
      const history = await stack.engine.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      histories.push(readable(history));
    }
    expect(histories.length).toBeGreaterThanOrEqual(2);
    expect(histories.some((h) => h.includes(w.connection.id))).toBe(true);
    const purchase = await stack.engine.client.workflow.getHandle(purchaseWorkflowId(w.seller.id, 'H-1')).fetchHistory();
    histories.push(readable(purchase));
    expect(histories.some((h) => h.includes("KUNDE-4711-GEHEIM"))).toBe(true); // payloads were decoded to text
    for (const h of histories) {
      expect(h).not.toContain(SECRET);
      expect(h).not.toContain('whsec-new-'); // the secret set later by PUT …/callback
    }
    const logs = [...logLines, ...consoleLines].join('\n');
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain('whsec-new-');
  });
});
