/**
 * The OpenAPI document tells the truth: the version it claims, bodies as they are sent, answers
 * without a body, who needs a key, and every status an operation can answer.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApiKey, operatorPrincipal } from '../../api/auth.ts';
import { apiTestContext, bearer, call, type ApiTestContext } from './support.ts';

let ctx: ApiTestContext;
let doc: any;
beforeAll(async () => {
  ctx = await apiTestContext();
  doc = (await call(ctx.app, undefined, 'GET', '/openapi.json')).json();
});
afterAll(() => ctx.close());

interface Operation {
  method: string;
  path: string;
  op: any;
}
const operations = (): Operation[] =>
  Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
const statuses = (o: Operation) => Object.keys(o.op.responses).map(Number);
const isPublic = (o: Operation) => Array.isArray(o.op.security) && o.op.security.length === 0;

describe('the OpenAPI document', () => {
  test('is OpenAPI 3.1 and bearer-authenticated by default', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.security).toEqual([{ apiKey: [] }]);
    expect(doc.components.securitySchemes.apiKey).toEqual({ type: 'http', scheme: 'bearer' });
  });

  test('/health and the /machines policy and simulator are the operations without security, and they answer without a key', async () => {
    expect(operations().filter(isPublic).map((o) => `${o.method} ${o.path}`)).toEqual([
      'GET /health', 'GET /v1/machines', 'POST /v1/machines/connection/simulate', 'POST /v1/machines/cart/simulate',
    ]);
    expect([200, 503]).toContain((await call(ctx.app, undefined, 'GET', '/health')).statusCode);
    expect((await call(ctx.app, undefined, 'GET', '/v1/machines')).statusCode).toBe(200);
  });

  test('204 answers are documented without a body, and sent without one', async () => {
    const noContent = operations().filter((o) => o.op.responses['204']);
    expect(noContent.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(['PUT /v1/contracting-companies/{id}/modules/{module}', 'DELETE /v1/api-keys/{keyId}']),
    );
    for (const o of noContent) expect(o.op.responses['204'], `${o.method} ${o.path}`).not.toHaveProperty('content');
    const { keyId } = await createApiKey(ctx.db, operatorPrincipal);
    const revoked = await call(ctx.app, ctx.operatorKey, 'DELETE', `/v1/api-keys/${keyId}`);
    expect(revoked.statusCode).toBe(204);
    expect(revoked.body).toBe('');
    expect(revoked.headers['content-type']).toBeUndefined();
  });

  test('the rule-set body is documented as YAML, and a request sent that way is read', async () => {
    const body = doc.paths['/v1/rule-sets'].post.requestBody;
    expect(body.required).toBe(true);
    expect(Object.keys(body.content)).toContain('application/yaml');
    expect(body.content['application/yaml'].schema.type).toBe('string');
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/rule-sets',
      headers: { ...bearer(ctx.operatorKey), 'content-type': 'application/yaml' },
      payload: 'version: 1\n', // read and checked (422), not refused as a media type (415)
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('RULE_SET_INVALID');
  });

  test('the CSV export is documented as text/csv', () => {
    expect(Object.keys(doc.paths['/v1/payouts.csv'].get.responses['200'].content)).toEqual(['text/csv']);
  });

  test('trimmed text says so: its length as sent, and at least one character that is not whitespace', async () => {
    const name = doc.paths['/v1/contracting-companies'].post.requestBody.content['application/json'].schema.properties.name;
    expect(name).toMatchObject({ type: 'string', maxLength: 200, description: expect.stringContaining('trimmed') });
    const pattern = new RegExp(name.pattern);
    expect(pattern.test(' \t\u00a0\ufeff')).toBe(false);
    expect(pattern.test('  Verlag ')).toBe(true);

    const blank = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name: ' \t ' });
    expect(blank.statusCode).toBe(400);
    const padded = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name: '  Verlag  ' });
    expect(padded.json().name).toBe('Verlag');
    // Longer than documented as sent, even if shorter once trimmed: refused, as the document says.
    const long = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name: `Verlag${' '.repeat(200)}` });
    expect(long.statusCode).toBe(400);
  });

  test('every operation documents what any operation of its kind can answer', () => {
    for (const o of operations()) {
      const label = `${o.method} ${o.path}`;
      const documented = statuses(o);
      expect(documented.some((s) => s >= 200 && s < 300), label).toBe(true);
      if (isPublic(o)) continue;
      // A key is looked up in Postgres: missing or refused, or the database is away.
      expect(documented, label).toEqual(expect.arrayContaining([401, 403, 503]));
      if (o.path.includes('{')) expect(documented, label).toEqual(expect.arrayContaining([400, 404]));
      if (o.op.parameters?.some((p: { in: string }) => p.in === 'query')) expect(documented, label).toContain(400);
      if (o.method !== 'GET') {
        // Idempotency-Key (its format, another request under it), a body too large or not JSON.
        expect(documented, label).toEqual(expect.arrayContaining([400, 409, 413, 415]));
        expect(o.op.parameters?.find((p: { in: string; name: string }) => p.in === 'header' && p.name === 'idempotency-key'), label).toMatchObject({
          required: false,
          schema: { type: 'string' },
        });
      }
      for (const status of documented.filter((s) => s >= 400)) {
        expect(o.op.responses[status].content['application/json'].schema.required, `${label} ${status}`).toEqual(['error']);
      }
    }
  });

  test('a body in another content type is 415 and a body over 1 MiB 413, also where the route reads no body', async () => {
    const { keyId } = await createApiKey(ctx.db, operatorPrincipal);
    for (const [method, url] of [
      ['DELETE', `/v1/api-keys/${keyId}`],
      ['POST', '/v1/clients/NOSUCHCLIENT00000000/api-keys'],
    ] as const) {
      const text = await ctx.app.inject({ method, url, headers: { ...bearer(ctx.operatorKey), 'content-type': 'text/plain' }, payload: 'hello' });
      expect(text.statusCode, `${method} ${url}`).toBe(415);
      const big = await ctx.app.inject({ method, url, headers: { ...bearer(ctx.operatorKey), 'content-type': 'application/json' }, payload: `"${'x'.repeat(1024 * 1024)}"` });
      expect(big.statusCode, `${method} ${url}`).toBe(413);
    }
  });
});
