/**
 * The callback outbox in the database. Claims are fair across connections: a connection with many due deliveries
 * (a receiver that is slow or down) gets at most CALLBACKS_IN_FLIGHT_PER_CONNECTION in flight, over
 * all dispatchers, and the deliveries of other connections behind its backlog are claimed anyway.
 * A delivery not acknowledged within its 3-day window fails for good, logged. After a key rotation
 * a worker's boot re-seals the stored secrets with the current key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CALLBACKS_IN_FLIGHT_PER_CONNECTION as MAX, attemptsOf, claimDueCallbacks, recordAttempt } from '../../db/callback.repository.ts';
import { decryptSecret, encryptSecret, keyIdOf } from '../../api/secrets.ts';
import { reencryptCallbackSecrets } from '../../runtime/callback-dispatcher.ts';
import { newId, testDatabase } from '../support/database.ts';

const handle = testDatabase();
const db = handle.db;
const queue = `claim-test-${randomUUID()}`;
const [slow, other, third] = [randomUUID(), randomUUID(), randomUUID()];
let orderRef: string;

beforeAll(async () => {
  const [company, seller] = [newId(), newId()];
  await db.insertInto('contracting_companies').values({ id: company, name: 'Claims' }).execute();
  await db.insertInto('clients').values({ id: seller, contracting_company_id: company, name: 'Seller', email: 's@example.test', language: 'de' }).execute();
  orderRef = randomUUID();
  await db
    .insertInto('orders')
    .values({ id: orderRef, seller_client_id: seller, order_id: 'o-1', cart_id: randomUUID(), customer_id: 'c', payment_method: 'PAYPAL', currency: 'EUR', items: JSON.stringify([]), request_hash: 'h' })
    .execute();
  // The slow connection's 30 deliveries are the longest due; the others' come after all of them.
  const rows = [
    ...Array.from({ length: 30 }, (_, i) => ({ connection: slow, i, dueSecondsAgo: 600 - i })),
    { connection: other, i: 0, dueSecondsAgo: 10 },
    { connection: third, i: 0, dueSecondsAgo: 5 },
  ];
  for (const r of rows) {
    await db
      .insertInto('callback_deliveries')
      .values({
        id: randomUUID(), queue, connection_id: r.connection, order_ref: orderRef, callback_type: 'ORDER_RENEWED', movement_id: `m-${r.i}`, sequence: r.i + 1, body: '{}',
        state: 'pending', next_attempt_at: sql<Date>`now() - ${`${r.dueSecondsAgo} seconds`}::interval`, give_up_at: sql<Date>`now() + interval '3 days'`,
      })
      .execute();
  }
});
afterAll(() => handle.close());

const byConnection = (rows: Array<{ connection_id: string }>) =>
  rows.reduce<Record<string, number>>((n, r) => ({ ...n, [r.connection_id]: (n[r.connection_id] ?? 0) + 1 }), {});

test('a claim takes at most the per-connection limit of one backlog, and the other connections behind it', async () => {
  const first = await claimDueCallbacks(db, queue, randomUUID(), 16, 60_000);
  expect(byConnection(first)).toEqual({ [slow]: MAX, [other]: 1, [third]: 1 });
  // The oldest of the backlog first.
  expect(first.filter((r) => r.connection_id === slow).map((r) => r.sequence).sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
});

test('while its deliveries are in flight, another dispatcher claims none of that connection', async () => {
  expect(await claimDueCallbacks(db, queue, randomUUID(), 16, 60_000)).toEqual([]);
});

test('a settled delivery frees its place for the next of the same connection', async () => {
  await db.updateTable('callback_deliveries').set({ state: 'delivered', lease_token: null, lease_until: null }).where('queue', '=', queue).where('connection_id', '=', slow).where('sequence', '=', 1).execute();
  const next = await claimDueCallbacks(db, queue, randomUUID(), 16, 60_000);
  expect(next.map((r) => [r.connection_id, r.sequence])).toEqual([[slow, 5]]);
});

test('a retry that would fall after the 3-day window fails the delivery for good, and the log says why', async () => {
  const fourth = randomUUID();
  await db
    .insertInto('callback_deliveries')
    .values({ id: randomUUID(), queue, connection_id: fourth, order_ref: orderRef, callback_type: 'ORDER_PURCHASED', movement_id: 'o-1', sequence: 1, body: '{}', state: 'pending', give_up_at: sql<Date>`now() + interval '3 days'` })
    .execute();
  const [claimed] = await claimDueCallbacks(db, queue, randomUUID(), 1, 60_000);
  expect(claimed?.connection_id).toBe(fourth);
  // Enqueued three days ago: its window closes in a second; the next retry would come after it.
  await db.updateTable('callback_deliveries').set({ give_up_at: sql<Date>`now() + interval '1 second'` }).where('id', '=', claimed!.id).execute();
  const delivery = await db.selectFrom('callback_deliveries').selectAll().where('id', '=', claimed!.id).executeTakeFirstOrThrow();
  const outcome = await recordAttempt(db, delivery, delivery.lease_token!, {
    attempt: delivery.attempts, at: new Date(), latencyMs: 12, statusCode: 503, error: 'answered 503', outcome: 'retry', delayMs: 60_000,
  });
  expect(outcome).toBe('failed');
  const after = await db.selectFrom('callback_deliveries').selectAll().where('id', '=', claimed!.id).executeTakeFirstOrThrow();
  expect(after).toMatchObject({ state: 'failed', lease_token: null });
  expect(after.last_error).toMatch(/answered 503; gave up: not acknowledged within 3 days/);
  expect((await attemptsOf(db, claimed!.id)).map((a) => [a.status_code, a.outcome])).toEqual([[503, 'failed']]);
  // Failed rows are never claimed again.
  const again = await claimDueCallbacks(db, queue, randomUUID(), 16, 60_000);
  expect(again.map((r) => r.id)).not.toContain(claimed!.id);
});

test('after a key rotation, the boot re-seals every secret the previous key opens, and leaves what no key opens', async () => {
  const [oldKey, newKey, strangerKey] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const [rotated, foreign] = [randomUUID(), randomUUID()];
  await db.insertInto('connection_callbacks').values([
    { connection_id: rotated, url: 'https://hooks.example.test/a', secret_enc: encryptSecret(oldKey, 'whsec-rotated-0123456789') },
    { connection_id: foreign, url: 'https://hooks.example.test/b', secret_enc: encryptSecret(strangerKey, 'whsec-foreign-0123456789') },
  ]).execute();
  const ring = { current: newKey, previous: [oldKey] };
  const first = await reencryptCallbackSecrets(db, ring);
  // Other test files' secrets (their own keys) are unreadable here too: only ours are counted exactly.
  expect(first.reencrypted).toBe(1);
  expect(first.unreadable).toBeGreaterThanOrEqual(1);
  const stored = async (id: string) => (await db.selectFrom('connection_callbacks').select('secret_enc').where('connection_id', '=', id).executeTakeFirstOrThrow()).secret_enc!;
  expect(await stored(rotated)).toMatch(new RegExp(`^v2\\.${keyIdOf(newKey)}\\.`));
  expect(decryptSecret({ current: newKey, previous: [] }, await stored(rotated))).toBe('whsec-rotated-0123456789');
  expect(await stored(foreign)).toMatch(new RegExp(`^v2\\.${keyIdOf(strangerKey)}\\.`)); // left as it was
  // Idempotent: a second boot has nothing to do for ours.
  expect((await reencryptCallbackSecrets(db, ring)).reencrypted).toBe(0);
  await db.deleteFrom('connection_callbacks').where('connection_id', 'in', [rotated, foreign]).execute();
});
