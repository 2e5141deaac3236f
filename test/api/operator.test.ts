import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newId } from '../support/database.ts';
import { apiTestContext, call, listWorkflows, startInput, terminateRunning, type ApiTestContext } from './support.ts';

let ctx: ApiTestContext;
beforeAll(async () => {
  ctx = await apiTestContext();
});
afterAll(async () => {
  await terminateRunning(ctx.client, `TaskQueue = "${ctx.taskQueue}"`);
  await ctx.close();
});

const op = (method: Parameters<typeof call>[2], url: string, body?: unknown) => call(ctx.app, ctx.operatorKey, method, url, body);

async function company(name = 'Hanse Medien'): Promise<string> {
  const res = await op('POST', '/v1/contracting-companies', { name });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

describe('contracting companies', () => {
  test('an operator creates a contracting company and gets a generated 20-character id', async () => {
    const res = await op('POST', '/v1/contracting-companies', { name: 'Hanse Medien' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Hanse Medien', id: expect.stringMatching(/^[A-Z0-9]{20}$/) });
  });

  test('a given id is kept', async () => {
    const id = newId();
    const res = await op('POST', '/v1/contracting-companies', { name: 'Nord', id });
    expect(res.statusCode).toBe(201);
    expect(res.json().id).toBe(id);
  });

  test('a given id must be 20 characters A-Z0-9', async () => {
    const res = await op('POST', '/v1/contracting-companies', { name: 'Nord', id: 'abc' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_REQUEST');
    expect(res.json().error.details.issues[0].field).toBe('id');
  });

  test('a taken id is a conflict', async () => {
    const id = await company();
    const res = await op('POST', '/v1/contracting-companies', { name: 'again', id });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('ID_EXISTS');
  });

  test('a company is shown with its modules and clients', async () => {
    const id = await company('Süd Verlag');
    await op('PUT', `/v1/contracting-companies/${id}/modules/CROSS_CLIENT_CONNECTIONS`);
    const client = await op('POST', '/v1/clients', { contractingCompanyId: id, name: 'Morgenpost', email: 'mp@example.test', language: 'en' });
    const res = await op('GET', `/v1/contracting-companies/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id,
      name: 'Süd Verlag',
      modules: [{ module: 'CROSS_CLIENT_CONNECTIONS', active: true }],
      clients: [{ id: client.json().client.id, name: 'Morgenpost', email: 'mp@example.test', language: 'en', contractingCompanyId: id }],
    });
  });

  test('an unknown company is 404', async () => {
    const res = await op('GET', `/v1/contracting-companies/${newId()}`);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });
});

describe('contract modules', () => {
  test('switching the module on and off is recorded and told to the connections by a fan-out workflow', async () => {
    const id = await company();
    const on = await op('PUT', `/v1/contracting-companies/${id}/modules/CROSS_CLIENT_CONNECTIONS`);
    expect(on.statusCode).toBe(204);
    expect((await op('GET', `/v1/contracting-companies/${id}`)).json().modules).toMatchObject([{ active: true }]);
    const off = await op('DELETE', `/v1/contracting-companies/${id}/modules/CROSS_CLIENT_CONNECTIONS`);
    expect(off.statusCode).toBe(204);
    expect((await op('GET', `/v1/contracting-companies/${id}`)).json().modules).toMatchObject([{ active: false }]);

    const query = `WorkflowType = "moduleFanoutWorkflow" AND TaskQueue = "${ctx.taskQueue}"`;
    const runs = (await listWorkflows(ctx.client, query, 2)).filter((wf) => wf.workflowId.startsWith(`modules:${id}:CROSS_CLIENT_CONNECTIONS:`));
    expect(runs).toHaveLength(2);
    const inputs = await Promise.all(runs.map((wf) => startInput(ctx.client, wf.workflowId)));
    expect(inputs).toEqual(
      expect.arrayContaining([
        { contractingCompanyId: id, module: 'CROSS_CLIENT_CONNECTIONS', active: true, revision: 1 },
        { contractingCompanyId: id, module: 'CROSS_CLIENT_CONNECTIONS', active: false, revision: 2 },
      ]),
    );
  });

  test('a module of an unknown company is 404', async () => {
    const res = await op('PUT', `/v1/contracting-companies/${newId()}/modules/CROSS_CLIENT_CONNECTIONS`);
    expect(res.statusCode).toBe(404);
  });
});

describe('clients and keys', () => {
  test('creating a client returns it with an API key that works at once', async () => {
    const id = await company();
    const res = await op('POST', '/v1/clients', { contractingCompanyId: id, name: 'Abendblatt', email: 'ab@example.test', language: 'de' });
    expect(res.statusCode).toBe(201);
    const { client, apiKey } = res.json();
    expect(client).toMatchObject({ id: expect.stringMatching(/^[A-Z0-9]{20}$/), contractingCompanyId: id, name: 'Abendblatt', language: 'de' });
    expect((await call(ctx.app, apiKey, 'GET', '/v1/connections')).statusCode).toBe(200);
  });

  test('a client of an unknown company is 404', async () => {
    const res = await op('POST', '/v1/clients', { contractingCompanyId: newId(), name: 'X', email: 'x@example.test', language: 'de' });
    expect(res.statusCode).toBe(404);
  });

  test('a client needs a valid email and language', async () => {
    const id = await company();
    const res = await op('POST', '/v1/clients', { contractingCompanyId: id, name: 'X', email: 'not-an-email', language: 'fr' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.issues.map((i: { field: string }) => i.field).sort()).toEqual(['email', 'language']);
  });

  test('a taken client id is a conflict', async () => {
    const id = await company();
    const clientId = newId();
    const body = { contractingCompanyId: id, name: 'X', email: 'x@example.test', language: 'de', id: clientId };
    expect((await op('POST', '/v1/clients', body)).statusCode).toBe(201);
    expect((await op('POST', '/v1/clients', body)).json().error.code).toBe('ID_EXISTS');
  });

  test('an operator issues another key and revokes it at once', async () => {
    const id = await company();
    const { client } = (await op('POST', '/v1/clients', { contractingCompanyId: id, name: 'X', email: 'x@example.test', language: 'de' })).json();
    const issued = await op('POST', `/v1/clients/${client.id}/api-keys`);
    expect(issued.statusCode).toBe(201);
    const { apiKey, keyId } = issued.json();
    expect((await call(ctx.app, apiKey, 'GET', '/v1/connections')).statusCode).toBe(200);
    expect((await op('DELETE', `/v1/api-keys/${keyId}`)).statusCode).toBe(204);
    expect((await call(ctx.app, apiKey, 'GET', '/v1/connections')).statusCode).toBe(401);
  });

  test('keys for an unknown client and revoking an unknown key are 404', async () => {
    expect((await op('POST', `/v1/clients/${newId()}/api-keys`)).statusCode).toBe(404);
    expect((await op('DELETE', '/v1/api-keys/no-such-key')).statusCode).toBe(404);
  });
});
