import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createApiKey, ensureOperatorKey, lookupPrefix } from '../../api/auth.ts';
import { findApiKeyByPrefix } from '../../db/api-key.repository.ts';
import { apiTestContext, call, seedCompany, type ApiTestContext } from './support.ts';

let ctx: ApiTestContext;
let clientKey: string;
beforeAll(async () => {
  ctx = await apiTestContext();
  clientKey = (await seedCompany(ctx, { moduleActive: false, clientNames: ['Morgenpost'] })).clients[0]!.apiKey;
});
afterAll(() => ctx.close());

const expectUnauthenticated = (res: { statusCode: number; json(): any }) => {
  expect(res.statusCode).toBe(401);
  expect(res.json().error.code).toBe('UNAUTHENTICATED');
};

test('a request without a key is 401', async () => {
  expectUnauthenticated(await call(ctx.app, undefined, 'GET', '/v1/connections'));
  expectUnauthenticated(await ctx.app.inject({ method: 'GET', url: '/v1/connections', headers: { authorization: 'Basic abc' } }));
});

test('an unknown key is 401, whatever its shape', async () => {
  expectUnauthenticated(await call(ctx.app, 'ccx_aaaaaaaaaaaa_bogus', 'GET', '/v1/connections'));
  expectUnauthenticated(await call(ctx.app, 'not-a-key', 'GET', '/v1/contracting-companies/X'));
  // Right prefix, wrong secret.
  expectUnauthenticated(await call(ctx.app, `${clientKey.slice(0, 17)}${'A'.repeat(43)}`, 'GET', '/v1/connections'));
});

test('a revoked key is 401', async () => {
  const { apiKey, keyId } = await createApiKey(ctx.db, { kind: 'operator', id: 'operator' });
  expect((await call(ctx.app, ctx.operatorKey, 'DELETE', `/v1/api-keys/${keyId}`)).statusCode).toBe(204);
  expectUnauthenticated(await call(ctx.app, apiKey, 'GET', '/v1/contracting-companies/X'));
});

test('a client key on an operator route is 403 FORBIDDEN_ACTOR', async () => {
  const res = await call(ctx.app, clientKey, 'POST', '/v1/contracting-companies', { name: 'X' });
  expect(res.statusCode).toBe(403);
  expect(res.json().error.code).toBe('FORBIDDEN_ACTOR');
});

test('an operator key acts as no client: 403 on client routes', async () => {
  const res = await call(ctx.app, ctx.operatorKey, 'GET', '/v1/connections');
  expect(res.statusCode).toBe(403);
  expect(res.json().error.code).toBe('FORBIDDEN_ACTOR');
});

test('keys are random, shown once, stored only as SHA-256 with a lookup prefix', async () => {
  const { apiKey } = await createApiKey(ctx.db, { kind: 'operator', id: 'operator' });
  expect(apiKey).toMatch(/^ccx_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
  const row = await findApiKeyByPrefix(ctx.db, lookupPrefix(apiKey));
  expect(row?.hash).toBe(createHash('sha256').update(apiKey).digest('hex'));
  expect(JSON.stringify(row)).not.toContain(apiKey.slice(17));
});

test('CCX_OPERATOR_KEY bootstrap: any chosen key becomes an operator key, once', async () => {
  const key = `bootstrap-${createHash('sha256').update(String(Math.random())).digest('hex')}`;
  const first = await ensureOperatorKey(ctx.db, key);
  const second = await ensureOperatorKey(ctx.db, key);
  expect(first).toMatchObject({ created: true, revoked: false });
  expect(second).toEqual({ keyId: first.keyId, created: false, revoked: false });
  expect((await call(ctx.app, key, 'POST', '/v1/contracting-companies', { name: 'Bootstrapped' })).statusCode).toBe(201);
});
