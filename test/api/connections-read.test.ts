import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { decryptSecret, encryptSecret } from '../../api/secrets.ts';
import { insertHistory, upsertConnection } from '../../db/connection.repository.ts';
import { connectionWorkflowId } from '../../workflows/messages.ts';
import { type ConnectionStatus } from '../../domain/connection.ts';
import { apiTestContext, call, seedCompany, type ApiTestContext } from './support.ts';

// Reads come from the read model the workflows write; here the rows are written directly, so
// these tests need no worker.
let ctx: ApiTestContext;
let a: { id: string; apiKey: string };
let b: { id: string; apiKey: string };
let c: { id: string; apiKey: string };
beforeAll(async () => {
  ctx = await apiTestContext();
  const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost', 'Abendblatt', 'Kurier'] });
  [a, b, c] = [clients[0]!, clients[1]!, clients[2]!];
});
afterAll(() => ctx.close());

async function connection(source: string, target: string, status: ConnectionStatus, createdAt = new Date()) {
  const id = uuidv7();
  await upsertConnection(ctx.db, {
    id,
    workflowId: connectionWorkflowId(source, target),
    sourceClientId: source,
    targetClientId: target,
    status,
    offerAccess: true,
    blockedBy: null,
    expiresAt: null,
    createdAt: createdAt.toISOString(),
    updatedAt: createdAt.toISOString(),
    version: 1,
    ruleSetVersion: null,
    callback: { url: 'https://example.test/cb' },
  });
  return id;
}

describe('reading connections', () => {
  test('either party sees a connection with its history; nobody else does', async () => {
    const id = await connection(a.id, b.id, 'invited');
    await insertHistory(ctx.db, { connectionId: id, version: 1, event: 'invite', actor: a.id, from: null, to: 'invited', at: new Date().toISOString() });
    for (const party of [a, b]) {
      const res = await call(ctx.app, party.apiKey, 'GET', `/v1/connections/${id}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id, sourceClientId: a.id, targetClientId: b.id, status: 'invited', version: 1, callback: { url: 'https://example.test/cb' } });
      expect(res.json().history).toEqual([{ event: 'invite', actor: a.id, from: null, to: 'invited', at: expect.any(String) }]);
      expect(res.body).not.toContain('secret');
    }
    const outsider = await call(ctx.app, c.apiKey, 'GET', `/v1/connections/${id}`);
    expect(outsider.statusCode).toBe(404);
    expect(outsider.json().error.code).toBe('NOT_FOUND');
  });

  test('a list shows the caller’s connections by role and status, paged with a cursor', async () => {
    const t = Date.now();
    const older = await connection(c.id, a.id, 'active', new Date(t - 2000));
    const newer = await connection(c.id, b.id, 'declined', new Date(t - 1000));
    const first = await call(ctx.app, c.apiKey, 'GET', '/v1/connections?role=source&limit=1');
    expect(first.json().items.map((i: { id: string }) => i.id)).toEqual([newer]);
    const second = await call(ctx.app, c.apiKey, 'GET', `/v1/connections?role=source&limit=1&cursor=${first.json().nextCursor}`);
    expect(second.json()).toMatchObject({ items: [{ id: older }], nextCursor: null });
    const active = await call(ctx.app, c.apiKey, 'GET', '/v1/connections?status=active');
    expect(active.json().items.map((i: { id: string }) => i.id)).toEqual([older]);
    const asTarget = await call(ctx.app, b.apiKey, 'GET', '/v1/connections?role=target');
    expect(asTarget.json().items.map((i: { id: string }) => i.id)).toContain(newer);
  });

  test('a command for a connection whose workflow is gone (closed run) is 409 INVALID_TRANSITION', async () => {
    const id = await connection(b.id, c.id, 'declined');
    const res = await call(ctx.app, c.apiKey, 'POST', `/v1/connections/${id}/accept`);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('INVALID_TRANSITION');
  });

  test('a command from a client that is no party is 404', async () => {
    const id = await connection(a.id, c.id, 'invited');
    expect((await call(ctx.app, b.apiKey, 'POST', `/v1/connections/${id}/accept`)).statusCode).toBe(404);
    expect((await call(ctx.app, b.apiKey, 'PATCH', `/v1/connections/${id}`, { offerAccess: false })).statusCode).toBe(404);
  });
});

describe('callback secrets at rest', () => {
  test('AES-256-GCM round trip; another key or a changed byte fails', () => {
    const key = randomBytes(32);
    const stored = encryptSecret(key, 'top secret');
    expect(stored).not.toContain('top secret');
    expect(decryptSecret(key, stored)).toBe('top secret');
    expect(() => decryptSecret(randomBytes(32), stored)).toThrow();
    // Flip one bit of the ciphertext itself (editing base64 text can leave the bytes unchanged).
    const [version, keyId, iv, tag, ciphertext] = stored.split('.');
    const bytes = Buffer.from(ciphertext!, 'base64url');
    bytes[0] = bytes[0]! ^ 1;
    expect(() => decryptSecret(key, [version, keyId, iv, tag, bytes.toString('base64url')].join('.'))).toThrow();
  });
});
