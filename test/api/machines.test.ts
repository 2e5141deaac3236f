/**
 * The /machines endpoints over HTTP on a real stack: the machines with the active rules on their
 * edges, the simulator (pure: no workflow touched), and the live view with its access rules.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { buildWorld, type World } from '../support/world.ts';

let stack: TestStack;
let world: World;

const send = async (method: string, url: string, key: string | undefined, body?: unknown) => {
  const res = await stack.app.inject({ method: method as 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {}, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as any) : undefined, headers: res.headers };
};

beforeAll(async () => {
  stack = await startTestStack({ temporalUiUrl: 'http://127.0.0.1:8233/' });
  world = await buildWorld(send, stack.operatorKey);
});
afterAll(() => stack?.stop());

const connectionScenario = { sameCompany: true, sourceModuleActive: true, targetModuleActive: true, hasCallback: false, offerAccess: true, blockedBy: null };
const simulate = (machine: string, body: object) => send('POST', `/v1/machines/${machine}/simulate`, undefined, body);

describe('the machines and their policy', () => {
  test('each machine comes with every state drawn and the active rules and mails on the edges they govern', async () => {
    const res = await send('GET', '/v1/machines', undefined);
    expect(res.status).toBe(200);
    const connection = res.body.machines.find((m: any) => m.name === 'connection');
    for (const state of connection.states) expect(connection.svg).toContain(`data-state="${state.key}"`);
    const invite = connection.edges.find((e: any) => e.from === 'screening' && e.to === 'invited');
    expect(invite.rules.map((r: any) => r.id)).toEqual(['source-module-active', 'target-module-active', 'callback-required']);
    expect(invite.mail).toBe('mail invitation to target');
    expect(connection.edges.find((e: any) => e.event === 'unblock').mail).toBe('mail unblocked to other party');
    expect(res.body.machines.map((m: any) => m.name)).toEqual(['connection', 'cart']);
    expect(res.body.versions.find((v: any) => v.active).version).toBe(res.body.ruleSet.version);
  });

  test('the page and its assets come from the API itself, allowed to load nothing from another host', async () => {
    for (const url of ['/machines', '/machines/machines.js', '/machines/machines.css']) {
      const res = await stack.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    }
    const html = (await stack.app.inject({ method: 'GET', url: '/machines' })).body;
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test('a rule-set version never published is 404', async () => {
    const res = await send('GET', `/v1/machines?ruleSetVersion=${'0'.repeat(64)}`, undefined);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});

describe('the simulator', () => {
  test('an invitation across companies without a callback is refused by the rule that says so', async () => {
    const res = await simulate('connection', { state: 'screening', event: 'invite', actor: 'source', scenario: { ...connectionScenario, sameCompany: false } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'refused', from: 'screening', to: 'screening', refusal: { by: 'rule', rule: 'callback-required', code: 'RULE_REJECTED' } });
  });

  test('an accepted invitation moves to active and mails the source', async () => {
    const res = await simulate('connection', { state: 'invited', event: 'accept', actor: 'target', scenario: connectionScenario });
    expect(res.body).toMatchObject({ outcome: 'moved', to: 'active', mails: [{ template: 'accepted', to: 'source' }] });
  });

  test('the machine refuses the wrong party, a stranger, and what the modules stop', async () => {
    const bySource = await simulate('connection', { state: 'invited', event: 'accept', actor: 'source', scenario: connectionScenario });
    expect(bySource.body.refusal).toMatchObject({ by: 'machine', code: 'FORBIDDEN_ACTOR' });
    const stranger = await simulate('connection', { state: 'active', event: 'block', actor: 'stranger', scenario: connectionScenario });
    expect(stranger.body.refusal).toMatchObject({ by: 'machine', code: 'NOT_FOUND' });
    const moduleOff = await simulate('connection', { state: 'invited', event: 'accept', actor: 'target', scenario: { ...connectionScenario, sourceModuleActive: false } });
    expect(moduleOff.body.refusal).toMatchObject({ by: 'machine', code: 'CONTRACT_MODULE_INACTIVE' });
  });

  test('a block records who blocked: only that party unblocks', async () => {
    const blocked = await simulate('connection', { state: 'active', event: 'block', actor: 'target', scenario: connectionScenario });
    expect(blocked.body).toMatchObject({ outcome: 'moved', to: 'blocked', effects: ['recordBlocker'], scenario: { blockedBy: 'target' } });
    const bySource = await simulate('connection', { state: 'blocked', event: 'unblock', actor: 'source', scenario: blocked.body.scenario });
    expect(bySource.body.refusal.code).toBe('FORBIDDEN_ACTOR');
    const byTarget = await simulate('connection', { state: 'blocked', event: 'unblock', actor: 'target', scenario: blocked.body.scenario });
    expect(byTarget.body).toMatchObject({ outcome: 'moved', to: 'active', scenario: { blockedBy: null } });
  });

  test('a cart whose mandatory external offer cannot be sold is not activated, and an active one is suspended when it is lost', async () => {
    const activate = await simulate('cart', { state: 'draft', event: 'activate', actor: 'seller', scenario: { externalItem: true, externalAvailable: false } });
    expect(activate.body.refusal).toMatchObject({ by: 'machine', code: 'ITEM_UNAVAILABLE' });
    const lost = await simulate('cart', { state: 'active', event: 'availabilityChanged', actor: 'system', scenario: { externalItem: true, externalAvailable: true } });
    expect(lost.body).toMatchObject({ outcome: 'moved', to: 'suspended', scenario: { externalAvailable: false } });
  });

  test('a state the machine does not have is a 400 naming the field', async () => {
    const res = await simulate('cart', { state: 'invited', event: 'activate', actor: 'seller', scenario: { externalItem: false, externalAvailable: true } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error)).toContain('state');
  });
});

describe('the live view', () => {
  const stateOf = (workflowId: string) => stack.engine.client.workflow.getHandle(workflowId).query<{ value: string; version: number; ruleSetVersion: string }>('state');

  test("the viewer sees a connection as its workflow's state query answers, pinned version and Temporal link included", async () => {
    const res = await send('GET', `/v1/machines/live/${world.connectionId}`, world.viewerKey);
    expect(res.status).toBe(200);
    const expected = await stateOf(res.body.workflowId);
    expect(res.body.state).toEqual(expected);
    expect(res.body.pinnedRuleSet.version).toBe(expected.ruleSetVersion);
    expect(res.body.temporalUiUrl).toBe(`http://127.0.0.1:8233/namespaces/${stack.engine.namespace}/workflows/${encodeURIComponent(res.body.workflowId)}/${res.body.runId}/history`);
    expect(res.body.history.map((h: any) => h.to)).toEqual(['invited', 'active']);
    const allowed = res.body.possible.filter((p: any) => p.allowed).map((p: any) => `${p.event}:${p.role}`);
    expect(allowed).toEqual(expect.arrayContaining(['block:source', 'block:target', 'end:source', 'setOfferAccess:source']));
    expect(allowed).not.toContain('accept:target');
  });

  test('a party opens its own connection by id or workflow id, and its cart; the viewer its cart too', async () => {
    const byId = await send('GET', `/v1/machines/live/${world.connectionId}`, world.seller.apiKey);
    expect(byId.status).toBe(200);
    const byWorkflow = await send('GET', `/v1/machines/live/${encodeURIComponent(byId.body.workflowId)}`, world.source.apiKey);
    expect(byWorkflow.body).toMatchObject({ kind: 'connection', id: world.connectionId });
    const cart = await send('GET', `/v1/machines/live/${world.cartId}`, world.seller.apiKey);
    expect(cart.body.state).toEqual(await stateOf(cart.body.workflowId));
    expect(cart.body.history.map((h: any) => h.event)).toContain('activate');
    expect((await send('GET', `/v1/machines/live/${world.cartId}`, world.viewerKey)).status).toBe(200);
  });

  test("no client sees another's connection or cart, whichever id it names; without a key nobody does", async () => {
    const workflowId = (await send('GET', `/v1/machines/live/${world.connectionId}`, world.viewerKey)).body.workflowId;
    for (const id of [world.connectionId, encodeURIComponent(workflowId), world.cartId]) {
      const res = await send('GET', `/v1/machines/live/${id}`, world.stranger.apiKey);
      expect(res.status, id).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect((await send('GET', `/v1/machines/live/${world.cartId}`, world.source.apiKey)).status).toBe(404); // the cart is the seller's
    expect((await send('GET', `/v1/machines/live/${world.connectionId}`, undefined)).status).toBe(401);
  });
});
