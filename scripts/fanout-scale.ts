/**
 * Scale check of the availability fan-out: N active carts (default 5,000) hold a mandatory offer of
 * one source; the connection is blocked, then unblocked. Prints how long until every cart is
 * suspended, then active again, and the history length of every fan-out run. Runs the whole
 * product (`ccx start` parts: dev server, worker, API) on a fresh database next to DATABASE_URL.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run scale:fanout [-- 5000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'kysely';
import { resolveItems } from '../api/cart.service.ts';
import { activeRules } from '../api/active-rules.ts';
import { openDatabase } from '../db/connect.ts';
import { loadConfig } from '../runtime/config.ts';
import { waitForSearchAttributes } from '../runtime/search-attributes.ts';
import { startStack } from '../runtime/stack.ts';
import { locateTemporalCli } from '../runtime/temporal-cli.ts';
import { searchAttributes } from '../temporal.config.ts';
import { clientFacts } from '../rules/connection-facts.ts';
import { getPartyFacts } from '../db/client.repository.ts';
import { CROSS_CLIENT_MODULE } from '../domain/connection.ts';
import { cartCreatedUpdate, cartUpdates, cartWorkflowId } from '../workflows/cart.messages.ts';
import { cartWorkflow } from '../workflows/cart.workflow.ts';

const carts = Number(process.argv[2] ?? 5000);
const base = process.env.DATABASE_URL;
if (!base) throw new Error('set DATABASE_URL to a PostgreSQL server (a fresh database is created next to it)');
const dbName = `ccx_fanout_${Date.now()}`;
const admin = openDatabase(base);
await sql`create database ${sql.id(dbName)}`.execute(admin.db);
await admin.close();
const url = new URL(base);
url.pathname = `/${dbName}`;
const dataDir = mkdtempSync(path.join(tmpdir(), 'ccx-fanout-'));
const operatorKey = `ccx_fanoutscale_${'x'.repeat(40)}`;
// The dev server in memory (as in the tests): `ccx start`'s persists to a file, which measures the disk.
const temporal = await TestWorkflowEnvironment.createLocal({
  server: { executable: { type: 'existing-path', path: locateTemporalCli()! }, searchAttributes: Object.values(searchAttributes) },
});
await waitForSearchAttributes(temporal.client.connection, 'default');
const config = loadConfig({
  ...process.env, DATABASE_URL: url.toString(), CCX_DATA_DIR: dataDir, PORT: '13571', CCX_OPERATOR_KEY: operatorKey, TEMPORAL_ADDRESS: temporal.address,
});
const quiet = () => {};
const stack = await startStack(config, { api: true, worker: true }, quiet);
const api = async (key: string, method: string, route: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:13571${route}`, {
    method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
};
const client = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
const db = stack.database.db;

try {
  const company = await api(operatorKey, 'POST', '/v1/contracting-companies', { name: 'Scale' });
  await api(operatorKey, 'PUT', `/v1/contracting-companies/${company.id}/modules/CROSS_CLIENT_CONNECTIONS`);
  const client$ = (name: string) => api(operatorKey, 'POST', '/v1/clients', { contractingCompanyId: company.id, name, email: `${name}@example.test`, language: 'de' });
  const source = await client$('source');
  const seller = await client$('seller');
  const connection = await api(source.apiKey, 'POST', '/v1/connections', { targetClientId: seller.client.id, offerAccess: true });
  await api(seller.apiKey, 'POST', `/v1/connections/${connection.id}/accept`);
  const offer = (key: string, body: object) => api(key, 'POST', '/v1/offers', { title: 'Abo', priceMinor: 999, currency: 'EUR', products: [{ name: 'Abo', costCenter: 'K1' }], ...body });
  const external = await offer(source.apiKey, { crossClient: true, connectedClientIds: [seller.client.id] });
  const own = await offer(seller.apiKey, { crossClient: false });

  const sellerId: string = seller.client.id;
  const items = await resolveItems(db, sellerId, [{ offerId: own.id, mandatory: true }, { offerId: external.id, mandatory: true }]);
  const sellerFacts = clientFacts((await getPartyFacts(db, sellerId, CROSS_CLIENT_MODULE))!);
  const { ruleSet } = await activeRules(db);
  const t0 = Date.now();
  await inBatches(carts, 64, async (n) => {
    const cartId = `0190c0de-0000-7000-8000-${String(n).padStart(12, '0')}`;
    const handle = await client.workflow.start(cartWorkflow, {
      taskQueue: config.temporal.taskQueue, workflowId: cartWorkflowId(sellerId, cartId),
      args: [{ cartId, clientId: sellerId, title: `Kombi ${n}`, items, seller: sellerFacts, ruleSet }],
    });
    await handle.executeUpdate(cartCreatedUpdate, { args: [{ cartId }] }); // recorded, availability read
    await handle.executeUpdate(cartUpdates.activate, { args: [{ cartId, actor: sellerId }] });
  });
  const created = (Date.now() - t0) / 1000;
  console.log(`${carts} carts created and activated in ${created.toFixed(1)} s`);

  const block = await measure(() => api(seller.apiKey, 'POST', `/v1/connections/${connection.id}/block`), 'suspended');
  console.log(`block → all ${carts} suspended in ${block.toFixed(1)} s`);
  const unblock = await measure(() => api(seller.apiKey, 'POST', `/v1/connections/${connection.id}/unblock`), 'active');
  console.log(`unblock → all ${carts} active in ${unblock.toFixed(1)} s`);

  const runs: Array<{ workflowId: string; runId: string; historyLength: number; status: string }> = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'availabilityFanoutWorkflow'` })) {
    runs.push({ workflowId: wf.workflowId, runId: wf.runId, historyLength: wf.historyLength ?? -1, status: wf.status.name });
  }
  const wrong = await db.selectFrom('carts').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '!=', 'active').executeTakeFirstOrThrow();
  const summary = {
    machine: `${process.platform} ${process.arch}, ${os.cpus().length} cores, node ${process.version}, Temporal dev server in memory, PostgreSQL`,
    carts, createdSeconds: created, blockToAllSuspendedSeconds: block, unblockToAllActiveSeconds: unblock,
    cartsNotActiveAtEnd: Number(wrong.n),
    fanoutRuns: runs.sort((a, b) => a.workflowId.localeCompare(b.workflowId)),
    maxHistoryLengthPerRun: Math.max(...runs.map((r) => r.historyLength)),
  };
  console.log(JSON.stringify(summary, null, 2));
  if (summary.cartsNotActiveAtEnd !== 0) process.exitCode = 1;
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await client.connection.close();
  await stack.stop();
  await temporal.teardown();
  rmSync(dataDir, { recursive: true, force: true });
  const cleanup = openDatabase(base);
  await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(cleanup.db);
  await cleanup.close();
}

async function measure(act: () => Promise<unknown>, status: string): Promise<number> {
  const start = Date.now();
  await act();
  for (;;) {
    const row = await db.selectFrom('carts').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', status).executeTakeFirstOrThrow();
    if (Number(row.n) === carts) return (Date.now() - start) / 1000;
    if (Date.now() - start > 600_000) throw new Error(`only ${row.n} of ${carts} carts ${status} after 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function inBatches(total: number, concurrency: number, fn: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await fn(next++);
  }));
}
