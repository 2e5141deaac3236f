/**
 * Update ids come from the recorded request (its minted id and hash): a retry converges on one
 * effect — also after the run continued as new — and a key reused once its record expired is a
 * new request, never answered with a stale result.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectionUpdates, stateQuery } from '../../workflows/messages.ts';
import type { connectionWorkflow } from '../../workflows/connection.workflow.ts';
import { clientCalls } from '../api/support.ts';
import { invite } from '../support/connections.ts';
import { createCompany } from '../support/fixtures.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());
const { ok } = clientCalls(() => stack.app);

test('a retried command whose first answer was lost converges after continue-as-new instead of answering 409', async () => {
  const { clients } = await createCompany(stack.engine.database.db, { clients: [{ name: 'Kurier', language: 'de' }, { name: 'Bote', language: 'en' }] });
  const [a, b] = [clients[0]!, clients[1]!];
  const { handle, view } = await invite(stack.engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true, historyEventLimit: 30 });
  const accept = { args: [{ connectionId: view.id, actor: b.id }] as [{ connectionId: string; actor: string }], updateId: 'accept-attempt-1' };
  const first = await handle.executeUpdate(connectionUpdates.accept, accept);
  expect(first).toMatchObject({ status: 'active', version: 2 });
  const firstRun = (await handle.describe()).runId;
  // Offer access back and forth until the run continues as new.
  for (let i = 0; (await handle.describe()).runId === firstRun && i < 20; i++) {
    await handle.executeUpdate(connectionUpdates.setOfferAccess, { args: [{ connectionId: view.id, actor: a.id, offerAccess: i % 2 === 1 }] });
  }
  expect((await handle.describe()).runId).not.toBe(firstRun);
  const latest = stack.engine.client.workflow.getHandle<typeof connectionWorkflow>(handle.workflowId);
  const version = (await latest.query(stateQuery)).version;

  // The caller never saw the first answer and retries with the same update id.
  expect(await latest.executeUpdate(connectionUpdates.accept, accept)).toEqual(first);
  expect((await latest.query(stateQuery)).version).toBe(version); // nothing applied twice
});

test('an Idempotency-Key reused after its record expired is a new request: it takes effect, not the old answer', async () => {
  const { clients } = await companyOverHttp(stack, ['Morgenpost', 'Abendblatt']);
  const [a, b] = clients as [HttpParty, HttpParty];
  const created = await ok<{ id: string }>(a, 'POST', '/v1/connections', { targetClientId: b.id, offerAccess: true }, 201);
  const key = { 'idempotency-key': 'reused-key' };
  const accepted = await stack.app.inject({ method: 'POST', url: `/v1/connections/${created.id}/accept`, headers: { authorization: `Bearer ${b.apiKey}`, ...key } });
  expect(accepted.json()).toMatchObject({ status: 'active' });

  // A day later the record is gone (kept 24 h) and the caller's key generator repeats itself.
  await stack.engine.database.db.deleteFrom('idempotency_keys').where('key', '=', 'reused-key').execute();
  const blocked = await stack.app.inject({ method: 'POST', url: `/v1/connections/${created.id}/block`, headers: { authorization: `Bearer ${b.apiKey}`, ...key } });
  expect(blocked.statusCode, blocked.body).toBe(200);
  expect(blocked.json()).toMatchObject({ status: 'blocked', blockedBy: b.id });
});
