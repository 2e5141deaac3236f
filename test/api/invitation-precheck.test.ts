import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { upsertConnection } from '../../db/connection.repository.ts';
import { searchAttributes } from '../../temporal.config.ts';
import { connectionWorkflowId } from '../../workflows/messages.ts';
import { newId } from '../support/database.ts';
import { apiTestContext, call, listWorkflows, seedCompany, startInput, terminateRunning, type ApiTestContext } from './support.ts';

let ctx: ApiTestContext;
beforeAll(async () => {
  ctx = await apiTestContext();
});
afterAll(async () => {
  await terminateRunning(ctx.client, `TaskQueue = "${ctx.taskQueue}"`);
  await ctx.close();
});

const callback = { url: 'https://abendblatt.example/ccx', secret: 's3cret-s3cret-s3cret' };

/** A refused invitation leaves no trace: no read-model row and no workflow. */
async function expectNoTrace(sourceClientId: string, targetClientId: string): Promise<void> {
  const rows = await ctx.db.selectFrom('connections').select('id').where('source_client_id', '=', sourceClientId).execute();
  expect(rows).toEqual([]);
  await expect(ctx.client.workflow.getHandle(connectionWorkflowId(sourceClientId, targetClientId)).describe()).rejects.toBeInstanceOf(
    WorkflowNotFoundError,
  );
  expect(await listWorkflows(ctx.client, `SourceClientId = "${sourceClientId}"`, 0, 0)).toEqual([]);
}

async function invite(sourceKey: string, body: object) {
  const res = await call(ctx.app, sourceKey, 'POST', '/v1/connections', body);
  return { status: res.statusCode, error: res.json().error as { code: string; message: string; details?: Record<string, unknown> } };
}

describe('invitations refused by the pre-check', () => {
  test('the module is off for the source: 422 CONTRACT_MODULE_INACTIVE', async () => {
    const { clients } = await seedCompany(ctx, { moduleActive: false, clientNames: ['Morgenpost', 'Abendblatt'] });
    const [source, target] = [clients[0]!, clients[1]!];
    expect(await invite(source.apiKey, { targetClientId: target.id, offerAccess: true })).toMatchObject({
      status: 422,
      error: { code: 'CONTRACT_MODULE_INACTIVE' },
    });
    await expectNoTrace(source.id, target.id);
  });

  test('inviting oneself: 422 SELF_CONNECTION', async () => {
    const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost'] });
    const source = clients[0]!;
    expect(await invite(source.apiKey, { targetClientId: source.id, offerAccess: true })).toMatchObject({
      status: 422,
      error: { code: 'SELF_CONNECTION' },
    });
    await expectNoTrace(source.id, source.id);
  });

  test('an unknown target: 404 TARGET_NOT_FOUND', async () => {
    const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost'] });
    const source = clients[0]!;
    const targetClientId = newId();
    expect(await invite(source.apiKey, { targetClientId, offerAccess: true })).toMatchObject({ status: 404, error: { code: 'TARGET_NOT_FOUND' } });
    await expectNoTrace(source.id, targetClientId);
  });

  test('a target of another contracting company without a callback: 422 RULE_REJECTED', async () => {
    const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost'] });
    const other = await seedCompany(ctx, { moduleActive: true, clientNames: ['Abendblatt'] });
    const [source, target] = [clients[0]!, other.clients[0]!];
    expect(await invite(source.apiKey, { targetClientId: target.id, offerAccess: true })).toMatchObject({
      status: 422,
      error: { code: 'RULE_REJECTED', details: { rule: 'callback-required' } },
    });
    await expectNoTrace(source.id, target.id);
  });

  test("a target of another contracting company whose module is off: 422 CONTRACT_MODULE_INACTIVE, even with a callback", async () => {
    const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost'] });
    const other = await seedCompany(ctx, { moduleActive: false, clientNames: ['Abendblatt'] });
    const [source, target] = [clients[0]!, other.clients[0]!];
    expect(await invite(source.apiKey, { targetClientId: target.id, offerAccess: true, callback })).toMatchObject({
      status: 422,
      error: { code: 'CONTRACT_MODULE_INACTIVE' },
    });
    await expectNoTrace(source.id, target.id);
  });

  test('an open connection of the pair in the read model: 409 CONNECTION_EXISTS, nothing started', async () => {
    const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost', 'Abendblatt'] });
    const [source, target] = [clients[0]!, clients[1]!];
    const now = new Date().toISOString();
    await upsertConnection(ctx.db, {
      id: crypto.randomUUID(),
      workflowId: connectionWorkflowId(source.id, target.id),
      sourceClientId: source.id,
      targetClientId: target.id,
      status: 'active',
      offerAccess: true,
      blockedBy: null,
      expiresAt: null,
      createdAt: now,
      updatedAt: now,
      version: 2,
      ruleSetVersion: null,
    });
    expect(await invite(source.apiKey, { targetClientId: target.id, offerAccess: true })).toMatchObject({
      status: 409,
      error: { code: 'CONNECTION_EXISTS' },
    });
    await expect(ctx.client.workflow.getHandle(connectionWorkflowId(source.id, target.id)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test('a plain-http callback to another host: 400 naming callback.url', async () => {
    const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost'] });
    const other = await seedCompany(ctx, { moduleActive: true, clientNames: ['Abendblatt'] });
    const res = await invite(clients[0]!.apiKey, { targetClientId: other.clients[0]!.id, offerAccess: true, callback: { ...callback, url: 'http://abendblatt.example/ccx' } });
    expect(res).toMatchObject({ status: 400, error: { code: 'INVALID_REQUEST', details: { issues: [{ field: 'callback.url' }] } } });
    await expectNoTrace(clients[0]!.id, other.clients[0]!.id);
  });
});

describe('an invitation that passes the pre-check', () => {
  test('starts connectionWorkflow under the pair lock with the documented input, search attributes and summary', async () => {
    // No worker on this task queue: the API answers 503 (outcome unknown) after its deadline,
    // but the workflow it started shows how it was started.
    const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost', 'Abendblatt'] });
    const [source, target] = [clients[0]!, clients[1]!];
    expect((await invite(source.apiKey, { targetClientId: target.id, offerAccess: false })).status).toBe(503);

    const workflowId = connectionWorkflowId(source.id, target.id);
    const description = await ctx.client.workflow.getHandle(workflowId).describe();
    expect(description.type).toBe('connectionWorkflow');
    expect(description.taskQueue).toBe(ctx.taskQueue);
    expect(await description.staticSummary()).toBe('Morgenpost invites Abendblatt');
    expect(description.typedSearchAttributes.get(searchAttributes.ConnectionStatus)).toBe('invited');
    expect(description.typedSearchAttributes.get(searchAttributes.SourceClientId)).toBe(source.id);
    expect(description.typedSearchAttributes.get(searchAttributes.TargetClientId)).toBe(target.id);
    expect(description.typedSearchAttributes.get(searchAttributes.OfferAccess)).toBe(false);
    expect(await startInput(ctx.client, workflowId)).toMatchObject({
      connectionId: description.memo?.connectionId,
      sourceClientId: source.id,
      targetClientId: target.id,
      offerAccess: false,
      callbackUrl: null,
      ruleSetVersion: description.typedSearchAttributes.get(searchAttributes.RuleSetVersion),
      facts: {
        source: { clientId: source.id, name: 'Morgenpost', moduleActive: true, language: 'de' },
        target: { clientId: target.id, name: 'Abendblatt', moduleActive: true },
      },
    });
  });
});
