import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requestHash } from '../../api/idempotency.ts';
import { insertClient } from '../../db/client.repository.ts';
import { connectionWorkflowId } from '../../workflows/messages.ts';
import { newId } from '../support/database.ts';
import { apiTestContext, call, seedCompany, startInput, terminateRunning, type ApiTestContext } from './support.ts';

let ctx: ApiTestContext;
beforeAll(async () => {
  ctx = await apiTestContext();
});
afterAll(async () => {
  await terminateRunning(ctx.client, `TaskQueue = "${ctx.taskQueue}"`);
  await ctx.close();
});

const withKey = (key: string) => ({ 'idempotency-key': key });
const companiesNamed = async (name: string) =>
  (await ctx.db.selectFrom('contracting_companies').select('id').where('name', '=', name).execute()).length;

describe('Idempotency-Key', () => {
  test('the same key and body get the recorded answer, with one effect', async () => {
    const key = randomUUID();
    const name = `Verlag ${key}`;
    const first = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name }, withKey(key));
    const second = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name }, withKey(key));
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await companiesNamed(name)).toBe(1);
  });

  test('the same body in another key order is the same request', () => {
    expect(requestHash('POST', '/v1/x', { a: 1, b: { c: [1, 2], d: null } })).toBe(requestHash('POST', '/v1/x', { b: { d: null, c: [1, 2] }, a: 1 }));
    expect(requestHash('POST', '/v1/x', { a: 1 })).not.toBe(requestHash('POST', '/v1/y', { a: 1 }));
  });

  test('the same key with another body is 409 IDEMPOTENCY_CONFLICT', async () => {
    const key = randomUUID();
    await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name: `A ${key}` }, withKey(key));
    const other = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name: `B ${key}` }, withKey(key));
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(await companiesNamed(`B ${key}`)).toBe(0);
  });

  test('without a key every call runs', async () => {
    const name = `Verlag ${randomUUID()}`;
    await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name });
    await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name });
    expect(await companiesNamed(name)).toBe(2);
  });

  test('a 4xx answer is recorded too: the retry does not re-decide', async () => {
    const { clients, companyId } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost'] });
    const key = randomUUID();
    const targetClientId = newId();
    const body = { targetClientId, offerAccess: true };
    const first = await call(ctx.app, clients[0]!.apiKey, 'POST', '/v1/connections', body, withKey(key));
    expect(first.json().error.code).toBe('TARGET_NOT_FOUND');
    await insertClient(ctx.db, { id: targetClientId, contracting_company_id: companyId, name: 'Abendblatt', email: 'a@example.test', language: 'de' });
    const retry = await call(ctx.app, clients[0]!.apiKey, 'POST', '/v1/connections', body, withKey(key));
    expect(retry.statusCode).toBe(404);
    expect(retry.headers['idempotent-replayed']).toBe('true');
  });

  test('keys are scoped to the principal', async () => {
    const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost', 'Abendblatt'] });
    const key = randomUUID();
    const a = await call(ctx.app, clients[0]!.apiKey, 'POST', '/v1/connections', { targetClientId: newId(), offerAccess: true }, withKey(key));
    const b = await call(ctx.app, clients[1]!.apiKey, 'POST', '/v1/connections', { targetClientId: newId(), offerAccess: false }, withKey(key));
    expect(a.json().error.code).toBe('TARGET_NOT_FOUND');
    expect(b.json().error.code).toBe('TARGET_NOT_FOUND'); // not IDEMPOTENCY_CONFLICT
  });

  test('a new API key is shown once: the record keeps apiKey null, and so does the replay', async () => {
    const company = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name: 'Verlag' });
    const storedBody = async (key: string) =>
      (await ctx.db.selectFrom('idempotency_keys').select('response_body').where('key', '=', key).executeTakeFirstOrThrow()).response_body;

    const clientKey = randomUUID();
    const body = { contractingCompanyId: company.json().id, name: 'Morgenpost', email: 'mp@example.test', language: 'de' };
    const created = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/clients', body, withKey(clientKey));
    expect(created.statusCode).toBe(201);
    const { apiKey, client } = created.json();
    expect(apiKey).toEqual(expect.any(String));
    expect(JSON.stringify(await storedBody(clientKey))).not.toContain(apiKey);
    expect(await storedBody(clientKey)).toEqual({ client, apiKey: null });
    const replay = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/clients', body, withKey(clientKey));
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual({ client, apiKey: null });

    const anotherKey = randomUUID();
    const another = await call(ctx.app, ctx.operatorKey, 'POST', `/v1/clients/${client.id}/api-keys`, undefined, withKey(anotherKey));
    expect(another.statusCode).toBe(201);
    const { apiKey: second, keyId } = another.json();
    expect(second).toEqual(expect.any(String));
    expect(JSON.stringify(await storedBody(anotherKey))).not.toContain(second);
    const anotherReplay = await call(ctx.app, ctx.operatorKey, 'POST', `/v1/clients/${client.id}/api-keys`, undefined, withKey(anotherKey));
    expect(anotherReplay.statusCode).toBe(201);
    expect(anotherReplay.json()).toEqual({ apiKey: null, keyId });
    // The keys shown once still work (only their record was redacted).
    expect((await call(ctx.app, apiKey, 'GET', '/v1/connections')).statusCode).toBe(200);
    expect((await call(ctx.app, second, 'GET', '/v1/connections')).statusCode).toBe(200);
  });

  test('a malformed key is 400', async () => {
    const res = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name: 'X' }, withKey('x'.repeat(300)));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.issues[0].field).toBe('Idempotency-Key');
  });

  test('while the first call runs the same key is 409 IDEMPOTENCY_IN_PROGRESS; after a 503 the retry runs again on the same minted id', async () => {
    // No worker polls this task queue: the invitation starts its workflow, then waits for the
    // invitation update until the deadline (1.5 s) → 503, outcome unknown.
    const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost', 'Abendblatt'] });
    const [source, target] = [clients[0]!, clients[1]!];
    const key = randomUUID();
    const body = { targetClientId: target.id, offerAccess: true };
    const invite = () => call(ctx.app, source.apiKey, 'POST', '/v1/connections', body, withKey(key));

    const first = invite();
    await new Promise((r) => setTimeout(r, 300));
    const concurrent = await invite();
    expect(concurrent.statusCode).toBe(409);
    expect(concurrent.json().error.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    const firstAnswer = await first;
    expect(firstAnswer.statusCode).toBe(503);
    expect(firstAnswer.json().error.code).toBe('UNAVAILABLE');

    const retry = await invite(); // not recorded: runs again, finds its own workflow, waits again
    expect(retry.statusCode).toBe(503);

    const row = await ctx.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    expect(row.state).toBe('in_progress');
    const workflowId = connectionWorkflowId(source.id, target.id);
    const description = await ctx.client.workflow.getHandle(workflowId).describe();
    expect(description.memo?.connectionId).toBe(row.minted_id);
    expect(await startInput(ctx.client, workflowId)).toMatchObject({ connectionId: row.minted_id });
    const runs = [];
    for await (const wf of ctx.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(wf);
    expect(runs.length).toBeLessThanOrEqual(1); // one run, never a second start
  });
});
