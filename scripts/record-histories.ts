/**
 * Records workflow histories for the replay test (test/replay.test.ts): runs representative
 * lifecycles on a throwaway dev server with the current workflow code and writes each history to
 * test/histories/<name>.json. Re-record only on purpose: a replay failure means a change would
 * break running workflows — version the change (patched()) instead of re-recording.
 *
 *   npx tsx scripts/record-histories.ts
 */
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { openDatabase } from '../db/connect.ts';
import { startEmbeddedPostgres } from '../db/embedded-postgres.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { locateTemporalCli } from '../runtime/temporal-cli.ts';
import { bundleWorkflows } from '../runtime/worker.ts';
import { searchAttributes } from '../temporal.config.ts';
import { availabilitySignal, cartCreatedUpdate, cartStateQuery, cartUpdates, cartWorkflowId } from '../workflows/cart.messages.ts';
import { cartWorkflow } from '../workflows/cart.workflow.ts';
import { connectionUpdates, connectionWorkflowId, invitationUpdate, upgradeRulesUpdate, type CommandArgs } from '../workflows/messages.ts';
import { readFileSync } from 'node:fs';
import { DEFAULT_RULES_FILE, ensureActiveRuleSet, publishRuleSetSource } from '../api/rule-set.service.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });
const out = new URL('../test/histories/', import.meta.url);
const env = await TestWorkflowEnvironment.createLocal({
  server: { executable: { type: 'existing-path', path: locateTemporalCli()! }, searchAttributes: Object.values(searchAttributes) },
});
const pg = await startEmbeddedPostgres({});
const database = openDatabase(pg.url, { embedded: true });
await migrateToLatest(database.db);
await ensureActiveRuleSet(database.db); // as at boot: workflows started without a rule set read the active one
const taskQueue = 'record';
const worker = await Worker.create({
  connection: env.nativeConnection,
  taskQueue,
  workflowBundle: await bundleWorkflows(),
  activities: createActivities({ db: database.db, temporal: { client: env.client, taskQueue } }),
});
const client: Client = env.client;

const company = 'RECORDCOMPANY0000001';
await database.db.insertInto('contracting_companies').values({ id: company, name: 'Recorder' }).execute();
await database.db.insertInto('contract_modules').values({ contracting_company_id: company, module: 'CROSS_CLIENT_CONNECTIONS', active: true, changed_at: new Date() }).execute();
for (const [id, name, language] of [['RECORDSOURCE00000001', 'Morgenpost', 'de'], ['RECORDTARGET00000002', 'Abendblatt', 'en']] as const) {
  await database.db.insertInto('clients').values({ id, contracting_company_id: company, name, email: `${name.toLowerCase()}@example.test`, language }).execute();
}
const A = 'RECORDSOURCE00000001';
const B = 'RECORDTARGET00000002';

type Step = [(typeof connectionUpdates)[keyof typeof connectionUpdates], string] | (() => Promise<unknown>);
async function record(name: string, steps: Step[], extra: { invitationTtlMs?: number; historyEventLimit?: number } = {}) {
  const connectionId = randomUUID();
  const handle = await client.workflow.start('connectionWorkflow', {
    taskQueue,
    workflowId: connectionWorkflowId(A, B),
    args: [{ connectionId, sourceClientId: A, targetClientId: B, offerAccess: true, ...extra }],
  });
  await handle.executeUpdate(invitationUpdate, { args: [{ connectionId }] });
  for (const step of steps) {
    if (typeof step === 'function') {
      await step();
      continue;
    }
    const [update, actor] = step;
    const args: CommandArgs = { connectionId, actor };
    await handle.executeUpdate(update, { args: [args] });
  }
  await handle.result();
  const history = await handle.fetchHistory();
  // proto3 JSON: the format `temporal workflow show --output json` writes and replay reads.
  writeFileSync(new URL(`${name}.json`, out), historyToJSON(history));
  console.log(`recorded ${name}: ${history.events?.length} events`);
}

/** A cart of B with an own offer and A's offer: created, activated, suspended, resumed, a stale signal, archived. */
async function recordCart(): Promise<void> {
  const own = '0190c0de-0000-7000-8000-00000000000b';
  const shared = '0190c0de-0000-7000-8000-00000000000a';
  const product = JSON.stringify([{ name: 'Abo', costCenter: 'K1' }]);
  await database.db.insertInto('offers').values([
    { id: shared, owner_client_id: A, title: 'Partnerabo', price_minor: 999, currency: 'EUR', cross_client: true, products: product, updated_at: new Date() },
    { id: own, owner_client_id: B, title: 'Hausabo', price_minor: 499, currency: 'EUR', cross_client: false, products: product, updated_at: new Date() },
  ]).execute();
  await database.db.insertInto('offer_targets').values({ offer_id: shared, target_client_id: B }).execute();
  const now = new Date();
  await database.db.insertInto('connections').values({
    id: randomUUID(), workflow_id: 'connection:recorded', source_client_id: A, target_client_id: B, status: 'active', offer_access: true,
    created_at: now, updated_at: now, version: 2,
  }).execute();
  const item = (offerId: string, external: boolean) => ({
    offerId, title: external ? 'Partnerabo' : 'Hausabo', mandatory: true, defaultSelected: true, position: external ? 1 : 0, external,
    sourceClientId: external ? A : B, priceMinor: external ? 999 : 499, currency: 'EUR', available: true,
  });
  const cartId = randomUUID();
  const seller = { id: B, name: 'Abendblatt', language: 'en', company: { id: company, moduleActive: true } };
  const handle = await client.workflow.start(cartWorkflow, {
    taskQueue, workflowId: cartWorkflowId(B, cartId), args: [{ cartId, clientId: B, title: 'Kombi', items: [item(own, false), item(shared, true)], seller }],
  });
  await handle.executeUpdate(cartCreatedUpdate, { args: [{ cartId }] });
  await handle.executeUpdate(cartUpdates.activate, { args: [{ cartId, actor: B }] });
  const pair = (version: number, available: boolean) => ({ sourceClientId: A, targetClientId: B, version, available, sharedOfferIds: [shared] });
  const waitFor = async (status: string) => {
    while ((await handle.query(cartStateQuery)).value !== status) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  await handle.signal(availabilitySignal, pair(5, false));
  await waitFor('suspended');
  await handle.signal(availabilitySignal, pair(6, true));
  await waitFor('active');
  await handle.signal(availabilitySignal, pair(4, false)); // stale: ignored
  await handle.executeUpdate(cartUpdates.archive, { args: [{ cartId, actor: B }] });
  await handle.result();
  const history = await handle.fetchHistory();
  writeFileSync(new URL('cart-suspended-resumed-archived.json', out), historyToJSON(history));
  console.log(`recorded cart-suspended-resumed-archived: ${history.events?.length} events`);
}

// `--only cart`: record the cart history alone (the connection histories stay as they are).
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
await worker.runUntil(async () => {
  if (only === 'cart') return recordCart();
  await recordCart();
  await record('lifecycle-block-unblock-end', [[connectionUpdates.accept, B], [connectionUpdates.block, B], [connectionUpdates.unblock, B], [connectionUpdates.end, A]]);
  await record('invitation-withdrawn', [[connectionUpdates.withdraw, A]]);
  await record('invitation-expired', [], { invitationTtlMs: 500 });
  // Started under the default rule set; a stricter one is published and the operator upgrades.
  const stricter = readFileSync(DEFAULT_RULES_FILE, 'utf8').replace('invitationTtl: P30D', 'invitationTtl: P7D');
  await record('rules-upgraded-then-accepted', [
    async () => {
      const { ruleSet } = await publishRuleSetSource(database.db, stricter, 'stricter.rules.yaml');
      await client.workflow.getHandle(connectionWorkflowId(A, B)).executeUpdate(upgradeRulesUpdate, { args: [{ ruleSet }] });
    },
    [connectionUpdates.accept, B],
    [connectionUpdates.end, B],
  ]);
});
await database.close();
await pg.stop();
await env.teardown();
