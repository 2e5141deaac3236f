/**
 * Availability fan-out (docs/architecture.md "Availability"): the pair's version bumped with the
 * change, the payload, the fan-out over a pair's carts (cart probes from a fixture bundle stand in
 * for carts), the dispatch and the relay, and the changes that bump: connection transitions and
 * module switches.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { mapLimit } from '../../activities/availability.activities.ts';
import { startPairFanouts, type FanoutDispatchDeps } from '../../activities/availability.dispatch.ts';
import { createConnectionActivities } from '../../activities/connection.activities.ts';
import { readPairAvailability, touchPairs, type Pair } from '../../db/availability.repository.ts';
import { openDatabase } from '../../db/connect.ts';
import { upsertConnection } from '../../db/connection.repository.ts';
import type { Database } from '../../db/schema.ts';
import type { PairAvailability } from '../../domain/availability.ts';
import type { ConnectionStatus, ConnectionTransition, ConnectionView } from '../../domain/connection.ts';
import { startFanoutRelay } from '../../runtime/worker.ts';
import { availabilityFanoutWorkflowId, type availabilityFanoutWorkflow } from '../../workflows/availability-fanout.workflow.ts';
import { connectionUpdates } from '../../workflows/messages.ts';
import { invite } from '../support/connections.ts';
import { createCompany, type TestClient } from '../support/fixtures.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import type { Kysely } from 'kysely';
import { receivedQuery, type cartProbe } from './fixtures/cart-probe.workflow.ts';

let stack: TestStack;
let db: Kysely<Database>;
let deps: FanoutDispatchDeps;
let probeQueue: string;
let probeConnection: NativeConnection;
let probeWorker: Worker;
let probeRunning: Promise<void>;

beforeAll(async () => {
  stack = await startTestStack();
  db = stack.engine.database.db;
  deps = { db, client: stack.engine.client, taskQueue: stack.engine.taskQueue };
  // Cart probes: a fixture workflow in its own bundle, on its own task queue.
  const workflowsPath = fileURLToPath(new URL('./fixtures/cart-probe.workflow.ts', import.meta.url));
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  probeQueue = `cart-probe-${randomUUID()}`;
  probeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  probeWorker = await Worker.create({
    connection: probeConnection,
    namespace: inject('temporalNamespace'),
    taskQueue: probeQueue,
    workflowBundle: { code },
    maxConcurrentWorkflowTaskExecutions: 100,
  });
  probeRunning = probeWorker.run();
});

afterAll(async () => {
  if (probeWorker?.getState() === 'RUNNING') probeWorker.shutdown();
  await probeRunning;
  await probeConnection?.close();
  await stack?.stop();
});

// ── fixtures ─────────────────────────────────────────────────────────────────────────────────

async function twoClients(options: { acrossCompanies?: boolean; sourceModule?: boolean; targetModule?: boolean } = {}): Promise<{ source: TestClient; target: TestClient; pair: Pair }> {
  if (options.acrossCompanies) {
    const s = await createCompany(db, { moduleActive: options.sourceModule ?? true, clients: [{ name: 'Quelle', language: 'de' }] });
    const t = await createCompany(db, { moduleActive: options.targetModule ?? true, clients: [{ name: 'Ziel', language: 'en' }] });
    const [source, target] = [s.clients[0]!, t.clients[0]!];
    return { source, target, pair: { sourceClientId: source.id, targetClientId: target.id } };
  }
  const c = await createCompany(db, { moduleActive: options.sourceModule ?? true, clients: [{ name: 'Quelle', language: 'de' }, { name: 'Ziel', language: 'en' }] });
  const [source, target] = [c.clients[0]!, c.clients[1]!];
  return { source, target, pair: { sourceClientId: source.id, targetClientId: target.id } };
}

function connectionView(pair: Pair, status: ConnectionStatus, offerAccess: boolean, version = 1): ConnectionView {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    workflowId: `connection:${pair.sourceClientId}:${pair.targetClientId}`,
    ...pair,
    status,
    offerAccess,
    blockedBy: status === 'blocked' ? pair.targetClientId : null,
    expiresAt: null,
    createdAt: now,
    updatedAt: now,
    version,
    ruleSetVersion: null,
  };
}

/** A cross-client offer of the source shared with the target, plus two that must not show. */
async function shareOffer(pair: Pair, other: string): Promise<string> {
  const offer = (crossClient: boolean) => ({
    id: randomUUID(),
    owner_client_id: pair.sourceClientId,
    title: 'Abo',
    price_minor: 999,
    currency: 'EUR',
    cross_client: crossClient,
    products: JSON.stringify([{ name: 'Print', costCenter: 'KST-1' }]),
    updated_at: new Date(),
  });
  const [shared, ownOnly, elsewhere] = [offer(true), offer(false), offer(true)];
  await db.insertInto('offers').values([shared, ownOnly, elsewhere]).execute();
  await db
    .insertInto('offer_targets')
    .values([
      { offer_id: shared.id, target_client_id: pair.targetClientId },
      { offer_id: elsewhere.id, target_client_id: other },
    ])
    .execute();
  return shared.id;
}

/** Cart rows of the target holding offers of the source, each pointing at the given workflow id. */
async function addCarts(pair: Pair, workflowIds: string[], status = 'active'): Promise<void> {
  const now = new Date();
  for (let i = 0; i < workflowIds.length; i += 500) {
    const carts = workflowIds.slice(i, i + 500).map((workflowId) => ({
      id: randomUUID(),
      client_id: pair.targetClientId,
      workflow_id: workflowId,
      title: 'Warenkorb',
      status,
      currency: 'EUR',
      items: '[]',
      version: 1,
      created_at: now,
      updated_at: now,
    }));
    await db.insertInto('carts').values(carts).execute();
    await db
      .insertInto('cart_sources')
      .values(carts.map((c) => ({ cart_id: c.id, seller_client_id: pair.targetClientId, source_client_id: pair.sourceClientId, workflow_id: c.workflow_id })))
      .execute();
  }
}

async function startProbes(count: number): Promise<WorkflowHandle<typeof cartProbe>[]> {
  return mapLimit(Array.from({ length: count }), 50, () =>
    stack.engine.client.workflow.start<typeof cartProbe>('cartProbe', {
      taskQueue: probeQueue,
      workflowId: `cart-probe:${randomUUID()}`,
      workflowExecutionTimeout: '10 minutes',
    }),
  );
}

const received = (probe: WorkflowHandle<typeof cartProbe>) => probe.query(receivedQuery);
const latest = (payloads: PairAvailability[]) => payloads.reduce<PairAvailability | undefined>((a, p) => (!a || p.version > a.version ? p : a), undefined);

async function versions(pair: Pair): Promise<{ version: number; told: number } | undefined> {
  const row = await db
    .selectFrom('pair_availability')
    .select(['version', 'told_version'])
    .where('source_client_id', '=', pair.sourceClientId)
    .where('target_client_id', '=', pair.targetClientId)
    .executeTakeFirst();
  return row && { version: Number(row.version), told: Number(row.told_version) };
}

/** Every run of a workflow chain, first to last, with its history length. */
async function runsOf(workflowId: string): Promise<{ runId: string; events: number }[]> {
  const runs: { runId: string; events: number }[] = [];
  let runId: string | undefined = (await stack.engine.client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const history = await stack.engine.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.unshift({ runId, events: history.events?.length ?? 0 });
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return runs;
}

// ── the outbox ───────────────────────────────────────────────────────────────────────────────

test('touchPairs bumps each pair once per call, inside the caller’s transaction', async () => {
  const { pair } = await twoClients();
  const other = { sourceClientId: pair.targetClientId, targetClientId: pair.sourceClientId };
  await touchPairs(db, [pair]);
  expect(await versions(pair)).toEqual({ version: 1, told: 0 });
  await touchPairs(db, [pair, pair, other]); // a pair named twice counts once
  expect(await versions(pair)).toEqual({ version: 2, told: 0 });
  expect(await versions(other)).toEqual({ version: 1, told: 0 });
  await db
    .transaction()
    .execute(async (trx) => {
      await touchPairs(trx, [pair]);
      throw new Error('rolled back');
    })
    .catch(() => {});
  expect(await versions(pair)).toEqual({ version: 2, told: 0 });
});

const availabilityCases: Array<{ name: string; status?: ConnectionStatus; offerAccess?: boolean; module?: 'source off' | 'target off'; available: boolean }> = [
  { name: 'active, offer access on, modules on', status: 'active', offerAccess: true, available: true },
  { name: 'active, offer access off', status: 'active', offerAccess: false, available: false },
  { name: 'blocked, offer access on', status: 'blocked', offerAccess: true, available: false },
  { name: 'blocked, offer access off', status: 'blocked', offerAccess: false, available: false },
  { name: 'ended, offer access on', status: 'ended', offerAccess: true, available: false },
  { name: 'ended, offer access off', status: 'ended', offerAccess: false, available: false },
  { name: 'invited, offer access on', status: 'invited', offerAccess: true, available: false },
  { name: 'active, offer access on, source company module off', status: 'active', offerAccess: true, module: 'source off', available: false },
  { name: 'active, offer access on, target company module off', status: 'active', offerAccess: true, module: 'target off', available: false },
  { name: 'no connection at all', available: false },
];

test.each(availabilityCases)('readPairAvailability: $name → available $available', async ({ status, offerAccess, module, available }) => {
  const { pair, source } = await twoClients({
    acrossCompanies: true,
    sourceModule: module !== 'source off',
    targetModule: module !== 'target off',
  });
  const offerId = await shareOffer(pair, source.id);
  if (status) await upsertConnection(db, connectionView(pair, status, offerAccess ?? false));
  await touchPairs(db, [pair]);
  await touchPairs(db, [pair]);
  // The shared offers are listed whatever the verdict; the version is the pair's.
  expect(await readPairAvailability(db, pair)).toEqual({ ...pair, version: 2, available, sharedOfferIds: [offerId] });
});

// ── the fan-out ──────────────────────────────────────────────────────────────────────────────

test('a fan-out over 1,200 carts tells each the latest payload once, pages through continue-as-new with short histories, and marks the pair told', async () => {
  const { pair, source } = await twoClients();
  const offerId = await shareOffer(pair, source.id);
  await upsertConnection(db, connectionView(pair, 'active', true));
  await touchPairs(db, [pair]);
  await touchPairs(db, [pair]); // version 2: the latest

  const probes = await startProbes(1_201);
  const archived = probes.pop()!;
  await addCarts(pair, probes.map((p) => p.workflowId));
  await addCarts(pair, [archived.workflowId], 'archived'); // never told
  await addCarts(pair, [`cart:${pair.targetClientId}:${randomUUID()}`]); // no such workflow: skipped

  const started = Date.now();
  const starts = await startPairFanouts(deps, [pair], { fanout: { pageSize: 100, pagesPerRun: 5 } });
  const workflowId = availabilityFanoutWorkflowId(pair.sourceClientId, pair.targetClientId, 2);
  expect(starts).toEqual([expect.objectContaining({ workflowId, outcome: 'started' })]);
  const result = await stack.engine.client.workflow.getHandle<typeof availabilityFanoutWorkflow>(workflowId).result();
  const elapsedMs = Date.now() - started;

  // 1,201 carts not archived, 100 per page, 5 pages per run: 13 pages in 3 runs.
  expect(result).toEqual({ version: 2, signalled: 1_200, skipped: 1, runs: 3 });
  const runs = await runsOf(workflowId);
  expect(runs).toHaveLength(3);
  // About six events per page (activity + workflow task) and a few per run; per cart it would be 2 × 500.
  for (const run of runs) expect(run.events).toBeLessThan(60);
  expect(await versions(pair)).toEqual({ version: 2, told: 2 });

  const expected: PairAvailability = { ...pair, version: 2, available: true, sharedOfferIds: [offerId] };
  const told = await mapLimit(probes, 50, received);
  expect(told.filter((payloads) => payloads.length === 1 && JSON.stringify(payloads[0]) === JSON.stringify(expected))).toHaveLength(1_200);
  expect(await received(archived)).toEqual([]);
  console.log(`[fan-out] 1,200 carts: ${elapsedMs} ms, ${runs.length} runs, history events per run ${runs.map((r) => r.events).join('/')}`);
}, 180_000);

test('a pair without carts is told without a fan-out workflow; one with a cart gets its fan-out', async () => {
  const { pair } = await twoClients();
  await touchPairs(db, [pair]);
  const workflowId = availabilityFanoutWorkflowId(pair.sourceClientId, pair.targetClientId, 1);
  expect(await startPairFanouts(deps, [pair])).toEqual([expect.objectContaining({ workflowId, outcome: 'done' })]);
  await expect(stack.engine.client.workflow.getHandle(workflowId).describe()).rejects.toThrow(/not found/i);
  expect(await startPairFanouts(deps, [pair])).toEqual([]); // told
  const [probe] = await startProbes(1);
  await addCarts(pair, [probe!.workflowId]);
  await touchPairs(db, [pair]);
  const next = availabilityFanoutWorkflowId(pair.sourceClientId, pair.targetClientId, 2);
  expect(await startPairFanouts(deps, [pair])).toEqual([expect.objectContaining({ workflowId: next, outcome: 'started' })]);
  await stack.engine.client.workflow.getHandle(next).result();
});

test('duplicate dispatches of one version converge on one fan-out', async () => {
  const { pair } = await twoClients();
  const [probe] = await startProbes(1);
  await addCarts(pair, [probe!.workflowId]); // a pair without carts needs no fan-out at all
  await touchPairs(db, [pair]);
  const [first, again] = await Promise.all([startPairFanouts(deps, [pair]), startPairFanouts(deps, [pair])]);
  const workflowId = availabilityFanoutWorkflowId(pair.sourceClientId, pair.targetClientId, 1);
  expect(first).toEqual([expect.objectContaining({ workflowId, outcome: 'started' })]);
  // The second finds the fan-out running (started), or — on a slow machine — already finished and
  // its pair told (nothing to start): never a second run.
  expect(again.filter((s) => s.outcome !== 'started' || s.workflowId !== workflowId)).toEqual([]);
  await stack.engine.client.workflow.getHandle(workflowId).result();
  expect(await runsOf(workflowId)).toHaveLength(1);
  // Told: nothing left to start. A dispatch naming the finished version again is refused as done.
  expect(await startPairFanouts(deps, [pair])).toEqual([]);
  await db.updateTable('pair_availability').set({ told_version: 0 }).where('source_client_id', '=', pair.sourceClientId).where('target_client_id', '=', pair.targetClientId).execute();
  expect(await startPairFanouts(deps, [pair])).toEqual([expect.objectContaining({ workflowId, outcome: 'done' })]);
});

// ── the relay ────────────────────────────────────────────────────────────────────────────────

test('a pair left untold (its start lost) is picked up by the relay', async () => {
  const { pair } = await twoClients();
  const [probe] = await startProbes(1);
  await addCarts(pair, [probe!.workflowId]);
  await touchPairs(db, [pair]); // a change whose fan-out start was lost
  // Younger than the relay's minimum age: left to whoever changed it.
  expect((await startPairFanouts(deps)).map((s) => s.workflowId)).not.toContain(availabilityFanoutWorkflowId(pair.sourceClientId, pair.targetClientId, 1));
  // Older (long ago, so it is first in the relay's oldest-first batch whatever other files left).
  await db
    .updateTable('pair_availability')
    .set({ changed_at: new Date('2000-01-01T00:00:00Z') })
    .where('source_client_id', '=', pair.sourceClientId)
    .where('target_client_id', '=', pair.targetClientId)
    .execute();
  const starts = await startPairFanouts(deps);
  expect(starts).toContainEqual(expect.objectContaining({ ...pair, version: 1, outcome: 'started' }));
  await expect.poll(() => versions(pair), { timeout: 20_000 }).toEqual({ version: 1, told: 1 });
  expect(await received(probe!)).toEqual([expect.objectContaining({ ...pair, version: 1, available: false })]);
});

test('the relay loop logs errors and keeps going until stopped', async () => {
  const broken = openDatabase('postgres://nobody@127.0.0.1:1/none');
  const lines: string[] = [];
  const relay = startFanoutRelay({ db: broken.db, client: stack.engine.client, taskQueue: stack.engine.taskQueue, intervalMs: 20 }, (line) => lines.push(line));
  await expect.poll(() => lines.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  await relay.stop();
  const count = lines.length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(lines.length).toBe(count);
  expect(lines[0]).toMatch(/^fan-out relay: .*retried next pass/);
  await broken.close();
});

// ── what bumps ───────────────────────────────────────────────────────────────────────────────

test('accept then block bump the pair twice; the fan-outs leave told_version = version and carts see the block', async () => {
  const { source, target, pair } = await twoClients();
  await shareOffer(pair, source.id);
  const [probe] = await startProbes(1);
  await addCarts(pair, [probe!.workflowId]);
  const { handle, view } = await invite(stack.engine, { ...pair, offerAccess: true });
  const invited = (await versions(pair))!.version; // the new row counted
  expect(invited).toBe(1);

  await handle.executeUpdate(connectionUpdates.accept, { args: [{ connectionId: view.id, actor: target.id }] });
  await handle.executeUpdate(connectionUpdates.block, { args: [{ connectionId: view.id, actor: target.id }] });
  expect((await versions(pair))!.version).toBe(invited + 2);
  await expect.poll(() => versions(pair), { timeout: 20_000 }).toEqual({ version: invited + 2, told: invited + 2 });
  await expect.poll(async () => latest(await received(probe!))).toMatchObject({ version: invited + 2, available: false });
});

test('a retried record of the same transition does not bump the pair again', async () => {
  const { pair } = await twoClients();
  const activities = createConnectionActivities({ db, mailQueue: 'no-mail' });
  const view = connectionView(pair, 'active', true, 1);
  const transition: ConnectionTransition = { view, history: { event: 'accept', actor: pair.targetClientId, from: 'invited', to: 'active', at: view.updatedAt } };
  await activities.recordConnectionTransition(transition);
  await activities.recordConnectionTransition(transition); // the activity retried after its commit
  expect(await versions(pair)).toEqual({ version: 1, told: 0 });
  // A newer version that changes nothing availability depends on (same status and access) does not bump either.
  await activities.recordConnectionTransition({ ...transition, view: { ...view, version: 2, ruleSetVersion: 'other' } });
  expect(await versions(pair)).toEqual({ version: 1, told: 0 });
  await activities.recordConnectionTransition({ ...transition, view: { ...view, version: 3, offerAccess: false } });
  expect(await versions(pair)).toEqual({ version: 2, told: 0 });
});

test('a module switch bumps every pair with a non-final connection of the company and tells them', async () => {
  const home = await createCompany(db, { clients: [{ name: 'Eins', language: 'de' }, { name: 'Zwei', language: 'en' }] });
  const away = await createCompany(db, { clients: [{ name: 'Drei', language: 'de' }] });
  const [a, b] = [home.clients[0]!.id, home.clients[1]!.id];
  const c = away.clients[0]!.id;
  const inside = { sourceClientId: a, targetClientId: b };
  const outward = { sourceClientId: c, targetClientId: a }; // the company's client as target
  const finished = { sourceClientId: b, targetClientId: a };
  await upsertConnection(db, connectionView(inside, 'active', true));
  await upsertConnection(db, connectionView(outward, 'blocked', true));
  await upsertConnection(db, connectionView(finished, 'ended', true));

  const response = await stack.app.inject({
    method: 'DELETE',
    url: `/v1/contracting-companies/${home.id}/modules/CROSS_CLIENT_CONNECTIONS`,
    headers: { authorization: `Bearer ${stack.operatorKey}`, 'idempotency-key': randomUUID() },
  });
  expect(response.statusCode).toBe(204);
  expect((await versions(inside))?.version).toBe(1);
  expect((await versions(outward))?.version).toBe(1);
  expect(await versions(finished)).toBeUndefined();
  await expect.poll(async () => [await versions(inside), await versions(outward)], { timeout: 20_000 }).toEqual([
    { version: 1, told: 1 },
    { version: 1, told: 1 },
  ]);
});
