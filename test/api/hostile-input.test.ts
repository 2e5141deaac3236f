/**
 * Hostile and broken input: every answer is the API's `{error: {code, message}}` with a documented
 * status, never a 500 and never Fastify's own format.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_RULES_FILE } from '../../api/rule-set.service.ts';
import { apiTestContext, bearer, call, seedCompany, type ApiTestContext } from './support.ts';

let ctx: ApiTestContext;
let clientKey: string;
let companyId: string;
beforeAll(async () => {
  ctx = await apiTestContext();
  const seeded = await seedCompany(ctx, { moduleActive: false, clientNames: ['Morgenpost'] });
  clientKey = seeded.clients[0]!.apiKey;
  companyId = seeded.companyId;
});
afterAll(() => ctx.close());

function expectApiError(res: { statusCode: number; json(): any; headers: Record<string, unknown> }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json()).toMatchObject({ error: { code, message: expect.any(String) } });
}

const fieldsOf = (res: { json(): any }) => res.json().error.details.issues.map((i: { field: string }) => i.field);

describe('characters PostgreSQL cannot store', () => {
  test('a NUL in a company name is 400 naming the field', async () => {
    const res = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name: 'Verlag\u0000' });
    expectApiError(res, 400, 'INVALID_REQUEST');
    expect(fieldsOf(res)).toEqual(['name']);
  });

  test('a NUL in a client id of the body is 400 naming the field', async () => {
    const res = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/clients', {
      contractingCompanyId: companyId,
      name: 'Abendblatt',
      email: 'abendblatt@example.test',
      language: 'de',
      id: 'ABC\u0000',
    });
    expectApiError(res, 400, 'INVALID_REQUEST');
    expect(fieldsOf(res)).toEqual(['id']);
  });

  test('a NUL in a path id is 400 naming the parameter', async () => {
    for (const [key, url] of [
      [clientKey, '/v1/connections/abc%00def'],
      [clientKey, '/v1/offers/%00'],
      [ctx.operatorKey, '/v1/contracting-companies/%00'],
    ] as const) {
      const res = await call(ctx.app, key, 'GET', url);
      expectApiError(res, 400, 'INVALID_REQUEST');
      expect(res.json().error.details).toMatchObject({ location: 'params', issues: [{ field: 'id' }] });
    }
  });

  test('a NUL in a query parameter is 400 naming it', async () => {
    const res = await call(ctx.app, clientKey, 'GET', '/v1/payouts?connectedClientId=A%00B');
    expectApiError(res, 400, 'INVALID_REQUEST');
    expect(res.json().error.details).toMatchObject({ location: 'querystring', issues: [{ field: 'connectedClientId' }] });
  });

  test('a NUL deep in a body, or in an object key, is named by its path', async () => {
    const offer = {
      title: 'Digitalabo',
      priceMinor: 999,
      currency: 'EUR',
      crossClient: false,
      products: [{ name: 'Abo', costCenter: 'KST\u0000' }],
    };
    expect(fieldsOf(await call(ctx.app, clientKey, 'POST', '/v1/offers', offer))).toEqual(['products.0.costCenter']);
    const keyed = { ...offer, products: [{ name: 'Abo', costCenter: 'KST', costCenters: { 'X\u0000': 'KST' } }] };
    expect(fieldsOf(await call(ctx.app, clientKey, 'POST', '/v1/offers', keyed))).toEqual(['products.0.costCenters.X\u0000']);
  });

  test('an unpaired surrogate is refused like a NUL', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/contracting-companies',
      headers: { ...bearer(ctx.operatorKey), 'content-type': 'application/json' },
      payload: '{"name": "Verlag \\ud800"}',
    });
    expectApiError(res, 400, 'INVALID_REQUEST');
    expect(fieldsOf(res)).toEqual(['name']);
    // A proper pair is an ordinary character.
    const pair = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name: 'Verlag \u{1F4F0}' });
    expect(pair.statusCode).toBe(201);
    expect(pair.json().name).toBe('Verlag \u{1F4F0}');
  });

  test('a NUL in a rule-set YAML is 400 naming the body', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/rule-sets',
      headers: { ...bearer(ctx.operatorKey), 'content-type': 'application/yaml' },
      payload: 'name: evil\u0000\n',
    });
    expectApiError(res, 400, 'INVALID_REQUEST');
    expect(fieldsOf(res)).toEqual(['body']);
  });

  test('a NUL written as a YAML escape is a rule-set error with its line, not a 500', async () => {
    const source = (await readFile(DEFAULT_RULES_FILE, 'utf8')).replace('name: default', 'name: "de\\0fault"');
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/rule-sets',
      headers: { ...bearer(ctx.operatorKey), 'content-type': 'application/yaml' },
      payload: source,
    });
    expectApiError(res, 422, 'RULE_SET_INVALID');
    expect(res.json().error.details.errors).toMatchObject([{ code: 'RULES_BAD_VALUE', line: 5 }]);
  });

  test('authentication comes first: without a key the same request is 401', async () => {
    const res = await call(ctx.app, undefined, 'POST', '/v1/contracting-companies', { name: 'Verlag\u0000' });
    expectApiError(res, 401, 'UNAUTHENTICATED');
  });
});

describe('router errors', () => {
  test('a path parameter over 100 characters is 400 naming it', async () => {
    const res = await call(ctx.app, clientKey, 'GET', `/v1/connections/${'a'.repeat(101)}`);
    expectApiError(res, 400, 'INVALID_REQUEST');
    expect(res.json().error.details).toMatchObject({ location: 'params', issues: [{ field: 'id' }] });
  });

  test('a path parameter longer than the router keeps is 400 too', async () => {
    const res = await call(ctx.app, clientKey, 'GET', `/v1/connections/${'a'.repeat(5000)}`);
    expectApiError(res, 400, 'INVALID_REQUEST');
  });

  test('bad percent-encoding is 400', async () => {
    for (const url of ['/v1/connections/%E0%A4%A', '/v1/connections/%zz', '/v1/connections/%C0%AF']) {
      expectApiError(await call(ctx.app, clientKey, 'GET', url), 400, 'INVALID_REQUEST');
    }
  });

  test('a method the path does not declare is 405 with Allow', async () => {
    const cases = [
      ['PATCH', '/v1/contracting-companies', 'POST'],
      ['DELETE', '/v1/connections', 'GET, POST'],
      ['PUT', '/v1/connections/0190a5a0-0000-7000-8000-000000000000', 'GET, PATCH'],
      ['GET', '/v1/connections/0190a5a0-0000-7000-8000-000000000000/accept', 'POST'],
      // A static path beside a parametric one: PATCH /v1/offers/{id} must not swallow it.
      ['PATCH', '/v1/offers/external', 'GET'],
      ['POST', '/health', 'GET'],
    ] as const;
    for (const [method, url, allow] of cases) {
      const res = await ctx.app.inject({ method, url, headers: bearer(clientKey) });
      expectApiError(res, 405, 'METHOD_NOT_ALLOWED');
      expect(res.headers.allow, `${method} ${url}`).toBe(allow);
    }
  });

  test('HEAD, OPTIONS, TRACE and QUERY are undeclared methods too', async () => {
    for (const method of ['HEAD', 'OPTIONS', 'TRACE', 'QUERY'] as const) {
      const res = await ctx.app.inject({ method: method as 'GET', url: '/v1/offers/external' });
      expect(res.statusCode, method).toBe(405);
      expect(res.headers.allow).toBe('GET');
    }
  });

  test('an unknown path is still 404', async () => {
    expectApiError(await call(ctx.app, clientKey, 'GET', '/v1/nothing'), 404, 'NOT_FOUND');
  });
});
