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
import { createMailTransport } from '../activities/mailer.ts';
import { openDatabase } from '../db/connect.ts';
import { startEmbeddedPostgres } from '../db/embedded-postgres.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { startSmtpSink } from '../runtime/smtp-sink.ts';
import { locateTemporalCli } from '../runtime/temporal-cli.ts';
import { bundleWorkflows } from '../runtime/worker.ts';
import { searchAttributes } from '../temporal.config.ts';
import { connectionUpdates, connectionWorkflowId, invitationUpdate, upgradeRulesUpdate, type CommandArgs } from '../workflows/messages.ts';
import { readFileSync } from 'node:fs';
import { DEFAULT_RULES_FILE, publishRuleSetSource } from '../api/rule-set.service.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });
const out = new URL('../test/histories/', import.meta.url);
const env = await TestWorkflowEnvironment.createLocal({
  server: { executable: { type: 'existing-path', path: locateTemporalCli()! }, searchAttributes: Object.values(searchAttributes) },
});
const pg = await startEmbeddedPostgres({});
const database = openDatabase(pg.url, { embedded: true });
await migrateToLatest(database.db);
const sink = await startSmtpSink({ dir: '/tmp/ccx-record-mail' });
const taskQueue = 'record';
const worker = await Worker.create({
  connection: env.nativeConnection,
  taskQueue,
  workflowBundle: await bundleWorkflows(),
  activities: createActivities({ db: database.db, mailer: createMailTransport(`smtp://127.0.0.1:${sink.port}`), mailFrom: 'record@ccx.invalid', temporal: { client: env.client, taskQueue } }),
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

await worker.runUntil(async () => {
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
await sink.stop();
await env.teardown();
