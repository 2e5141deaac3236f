/**
 * The connection endpoints end to end: HTTP → API → Temporal → worker → Postgres/SMTP.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stateQuery } from '../../workflows/messages.ts';
import { call } from './support.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

type Party = HttpParty;
const company = (moduleOn = true, names = ['Morgenpost', 'Abendblatt']) => companyOverHttp(stack, names, { moduleOn });

const as = (p: Party, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, headers?: Record<string, string>) =>
  call(stack.app, p.apiKey, method, url, body, headers);

async function invite(a: Party, b: Party, offerAccess = true) {
  const res = await as(a, 'POST', '/v1/connections', { targetClientId: b.id, offerAccess });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; version: number; status: string };
}

describe('connections over HTTP', () => {
  test('invite, accept, block, unblock only by the blocker, end, invite again', async () => {
    const { clients: [a, b] } = await company();
    const created = await invite(a!, b!);
    expect(created).toMatchObject({ status: 'invited', version: 1, sourceClientId: a!.id, targetClientId: b!.id, offerAccess: true, blockedBy: null });
    expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    const url = `/v1/connections/${created.id}`;

    expect((await as(b!, 'POST', `${url}/accept`)).json()).toMatchObject({ status: 'active', version: 2 });
    expect((await as(b!, 'POST', `${url}/block`)).json()).toMatchObject({ status: 'blocked', blockedBy: b!.id, version: 3 });
    const unblockByOther = await as(a!, 'POST', `${url}/unblock`);
    expect(unblockByOther.statusCode).toBe(403);
    expect(unblockByOther.json().error.code).toBe('FORBIDDEN_ACTOR');
    expect((await as(b!, 'POST', `${url}/unblock`)).json()).toMatchObject({ status: 'active', version: 4 });
    expect((await as(a!, 'POST', `${url}/end`)).json()).toMatchObject({ status: 'ended', version: 5 });

    const again = await invite(a!, b!);
    expect(again.id).not.toBe(created.id);
    const old = await as(b!, 'GET', url);
    expect(old.json()).toMatchObject({ status: 'ended', version: 5 });
    expect(old.json().history.map((h: { event: string }) => h.event)).toEqual(['invite', 'accept', 'block', 'unblock', 'end']);

    // Delivered side by side, so in any order: sorted by transition number.
    const transition = (m: { messageId: string }) => Number(m.messageId.split('.')[1]);
    const mails = (await stack.engine.smtp.waitFor((m) => m.messageId.includes(created.id), 5)).sort((x, y) => transition(x) - transition(y));
    expect(mails.map((m) => [m.template, m.to])).toEqual([
      ['invitation', b!.email],
      ['accepted', a!.email],
      ['blocked', a!.email],
      ['unblocked', a!.email],
      ['ended', b!.email],
    ]);
  });

  test('a command answer is already visible to a GET right after it', async () => {
    const { clients: [a, b] } = await company();
    const { id } = await invite(a!, b!);
    await as(b!, 'POST', `/v1/connections/${id}/accept`);
    expect((await as(a!, 'GET', `/v1/connections/${id}`)).json()).toMatchObject({ status: 'active', version: 2 });
  });

  test('the target declines; the source withdraws another invitation', async () => {
    const { clients: [a, b, c] } = await company(true, ['Kurier', 'Bote', 'Anzeiger']);
    const first = await invite(a!, b!);
    expect((await as(b!, 'POST', `/v1/connections/${first.id}/decline`)).json()).toMatchObject({ status: 'declined' });
    const second = await invite(a!, c!);
    const withdrawByTarget = await as(c!, 'POST', `/v1/connections/${second.id}/withdraw`);
    expect(withdrawByTarget.statusCode).toBe(403);
    expect((await as(a!, 'POST', `/v1/connections/${second.id}/withdraw`)).json()).toMatchObject({ status: 'withdrawn' });
  });

  test('only the source switches offer access', async () => {
    const { clients: [a, b] } = await company();
    const { id } = await invite(a!, b!);
    const byTarget = await as(b!, 'PATCH', `/v1/connections/${id}`, { offerAccess: false });
    expect(byTarget.statusCode).toBe(403);
    expect(byTarget.json().error.code).toBe('FORBIDDEN_ACTOR');
    expect((await as(a!, 'PATCH', `/v1/connections/${id}`, { offerAccess: false })).json()).toMatchObject({ offerAccess: false, version: 2 });
    const bad = await as(a!, 'PATCH', `/v1/connections/${id}`, { offerAccess: 'no' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_REQUEST');
  });

  test('forbidden transitions are 409 and change nothing', async () => {
    const { clients: [a, b] } = await company();
    const { id } = await invite(a!, b!);
    const url = `/v1/connections/${id}`;
    const blockWhileInvited = await as(b!, 'POST', `${url}/block`);
    expect([blockWhileInvited.statusCode, blockWhileInvited.json().error.code]).toEqual([409, 'INVALID_TRANSITION']);
    const acceptBySource = await as(a!, 'POST', `${url}/accept`);
    expect([acceptBySource.statusCode, acceptBySource.json().error.code]).toEqual([403, 'FORBIDDEN_ACTOR']);
    await as(b!, 'POST', `${url}/accept`);
    const acceptTwice = await as(b!, 'POST', `${url}/accept`);
    expect([acceptTwice.statusCode, acceptTwice.json().error.code]).toEqual([409, 'INVALID_TRANSITION']);
    const row = (await as(a!, 'GET', url)).json();
    expect(row).toMatchObject({ status: 'active', version: 2 });
    expect(row.history).toHaveLength(2);
    // no mail for refused commands: only the invitation and the acceptance went out
    await stack.engine.smtp.waitFor((m) => m.messageId.includes(id), 2);
    await new Promise((r) => setTimeout(r, 300));
    // (Two recipients; the dispatcher sends due mails side by side, in no promised order.)
    expect(stack.engine.smtp.mails.filter((m) => m.messageId.includes(id)).map((m) => m.template).sort()).toEqual(['accepted', 'invitation']);
  });

  test('commands on a finished connection are 409', async () => {
    const { clients: [a, b] } = await company();
    const { id } = await invite(a!, b!);
    await as(a!, 'POST', `/v1/connections/${id}/withdraw`);
    const late = await as(b!, 'POST', `/v1/connections/${id}/accept`);
    expect([late.statusCode, late.json().error.code]).toEqual([409, 'INVALID_TRANSITION']);
  });

  test('a second open invitation for the pair is 409 CONNECTION_EXISTS and starts nothing', async () => {
    const { clients: [a, b] } = await company();
    const first = await invite(a!, b!);
    const dup = await as(a!, 'POST', '/v1/connections', { targetClientId: b!.id, offerAccess: true });
    expect([dup.statusCode, dup.json().error.code]).toEqual([409, 'CONNECTION_EXISTS']);
    const list = (await as(a!, 'GET', '/v1/connections?role=source')).json();
    expect(list.items.map((c: { id: string }) => c.id)).toEqual([first.id]);
  });

  test('the reverse direction is a separate connection', async () => {
    const { clients: [a, b] } = await company();
    const ab = await invite(a!, b!);
    const ba = await invite(b!, a!);
    expect(ba.id).not.toBe(ab.id);
  });

  test('strangers and unknown ids get 404, never a hint', async () => {
    const { clients: [a, b, stranger] } = await company(true, ['Eins', 'Zwei', 'Drei']);
    const { id } = await invite(a!, b!);
    for (const [method, path] of [['GET', ''], ['POST', '/accept'], ['POST', '/end']] as const) {
      const res = await as(stranger!, method, `/v1/connections/${id}${path}`);
      expect([res.statusCode, res.json().error.code]).toEqual([404, 'NOT_FOUND']);
    }
    const unknown = await as(a!, 'GET', '/v1/connections/0190c0de-0000-7000-8000-000000000000');
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'NOT_FOUND']);
    const garbage = await as(a!, 'POST', '/v1/connections/not-a-uuid/accept');
    expect(garbage.statusCode).toBe(404);
  });

  test('lists show each client its own connections, filtered and paged', async () => {
    const { clients } = await company(true, ['Hub', 'S1', 'S2', 'S3']);
    const [hub, ...others] = clients as [Party, ...Party[]];
    const ids = [];
    for (const o of others) ids.push((await invite(hub, o)).id);
    await as(others[0]!, 'POST', `/v1/connections/${ids[0]}/accept`);

    const page1 = (await as(hub, 'GET', '/v1/connections?role=source&limit=2')).json();
    expect(page1.items).toHaveLength(2);
    const page2 = (await as(hub, 'GET', `/v1/connections?role=source&limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2.nextCursor).toBeNull();
    expect([...page1.items, ...page2.items].map((c: { id: string }) => c.id).sort()).toEqual([...ids].sort());
    expect((await as(hub, 'GET', '/v1/connections?role=target')).json().items).toEqual([]);
    const active = (await as(hub, 'GET', '/v1/connections?status=active')).json();
    expect(active.items.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect((await as(others[1]!, 'GET', '/v1/connections')).json().items.map((c: { id: string }) => c.id)).toEqual([ids[1]]);
    const badLimit = await as(hub, 'GET', '/v1/connections?limit=0');
    expect([badLimit.statusCode, badLimit.json().error.code]).toEqual([400, 'INVALID_REQUEST']);
  });

  test('a module switched off refuses accept with 422; on again, accept works', async () => {
    const { id: companyId, clients: [a, b] } = await company();
    const { id } = await invite(a!, b!);
    const moduleUrl = `/v1/contracting-companies/${companyId}/modules/CROSS_CLIENT_CONNECTIONS`;
    expect((await call(stack.app, stack.operatorKey, 'DELETE', moduleUrl)).statusCode).toBe(204);
    const workflow = stack.engine.client.workflow.getHandle(`connection:${a!.id}:${b!.id}`);
    await expect.poll(async () => (await workflow.query(stateQuery)).context.modulesActive, { timeout: 10_000 }).toBe(false);
    const refused = await as(b!, 'POST', `/v1/connections/${id}/accept`);
    expect([refused.statusCode, refused.json().error.code]).toEqual([422, 'CONTRACT_MODULE_INACTIVE']);
    expect((await as(a!, 'GET', `/v1/connections/${id}`)).json()).toMatchObject({ status: 'invited', version: 1 });
    const newInvite = await as(a!, 'POST', '/v1/connections', { targetClientId: b!.id, offerAccess: true });
    expect([newInvite.statusCode, newInvite.json().error.code]).toEqual([422, 'CONTRACT_MODULE_INACTIVE']);
    expect((await call(stack.app, stack.operatorKey, 'PUT', moduleUrl)).statusCode).toBe(204);
    await expect.poll(async () => (await workflow.query(stateQuery)).context.modulesActive, { timeout: 10_000 }).toBe(true);
    expect((await as(b!, 'POST', `/v1/connections/${id}/accept`)).json()).toMatchObject({ status: 'active' });
  });

  test('the same Idempotency-Key replays the answer; another body under it is a conflict', async () => {
    const { clients: [a, b] } = await company();
    const key = { 'idempotency-key': `invite-${b!.id}` };
    const first = await as(a!, 'POST', '/v1/connections', { targetClientId: b!.id, offerAccess: true }, key);
    const retry = await as(a!, 'POST', '/v1/connections', { targetClientId: b!.id, offerAccess: true }, key);
    expect(first.statusCode).toBe(201);
    expect([retry.statusCode, retry.json()]).toEqual([201, first.json()]);
    const other = await as(a!, 'POST', '/v1/connections', { targetClientId: b!.id, offerAccess: false }, key);
    expect([other.statusCode, other.json().error.code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);

    const acceptKey = { 'idempotency-key': 'accept-1' };
    const accepted = await as(b!, 'POST', `/v1/connections/${first.json().id}/accept`, undefined, acceptKey);
    const acceptedAgain = await as(b!, 'POST', `/v1/connections/${first.json().id}/accept`, undefined, acceptKey);
    expect([acceptedAgain.statusCode, acceptedAgain.json()]).toEqual([200, accepted.json()]);
    expect((await as(a!, 'GET', `/v1/connections/${first.json().id}`)).json().history).toHaveLength(2);
  });

  test('the callback secret is kept but never returned', async () => {
    const { clients: [a] } = await company(true, ['Quelle']);
    const { clients: [b] } = await company(true, ['Fremd']);
    const res = await as(a!, 'POST', '/v1/connections', {
      targetClientId: b!.id,
      offerAccess: true,
      callback: { url: 'https://hooks.example.test/ccx', secret: 's3cr3t-value-of-the-callback' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().callback).toEqual({ url: 'https://hooks.example.test/ccx' });
    expect(res.body).not.toContain('s3cr3t-value-of-the-callback');
    expect((await as(b!, 'GET', `/v1/connections/${res.json().id}`)).body).not.toContain('s3cr3t-value-of-the-callback');
  });
});
