/**
 * The /machines endpoints over HTTP on a real stack: the machines with the active rules on their
 * edges, the simulator (pure: no workflow touched), and the live view with its access rules.
 *
 * This file shares its database with others, so it never changes the active rule set: a second
 * version is stored without being activated (what a rollback leaves), and a workflow is pinned to
 * it with `upgradeRules` sent straight to Temporal (what `ccx rules upgrade` sends). The browser
 * test, alone in its run, publishes for real.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveItems } from '../../api/cart.service.ts';
import { DEFAULT_RULES_FILE } from '../../api/rule-set.service.ts';
import { getPartyFacts } from '../../db/client.repository.ts';
import { CROSS_CLIENT_MODULE } from '../../domain/connection.ts';
import { flaggedCommands } from '../../machines/commands.ts';
import { connectionCommands } from '../../machines/connection.commands.ts';
import { clientFacts } from '../../rules/connection-facts.ts';
import { loadPublishableRuleSet } from '../../rules/loader.ts';
import type { CompiledRuleSet } from '../../rules/model.ts';
import { cartCreatedUpdate, cartUpgradeRulesUpdate, cartWorkflowId, type CartWorkflowInput } from '../../workflows/cart.messages.ts';
import { upgradeRulesUpdate } from '../../workflows/messages.ts';
import { companyOverHttp, startTestStack, type TestStack } from '../support/stack.ts';
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

/**
 * The default rules plus a guard on accept and one on activating a cart that reads the seller's
 * own facts (a German-language seller passes, as the made-up facts the live view once used did).
 */
function stricterRules(name: string): { source: string; ruleSet: CompiledRuleSet } {
  const source = readFileSync(DEFAULT_RULES_FILE, 'utf8').replace('name: default\n', `name: ${name}\n`).replace('guards:\n', `guards:
  connection.accept:
    - id: accept-same-language
      require: source.language == target.language
      message: "{{ target.name }} may only accept links from clients of its own language"
  cart.activate:
    - id: activate-german-sellers
      require: seller.language == 'de'
      message: "{{ seller.name }} sells in {{ seller.language }}: only German-language sellers may activate carts"
`);
  const loaded = loadPublishableRuleSet(source);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return { source, ruleSet: loaded.ruleSet };
}

/** Stored as published, not activated: the active rule set is global and this database is shared. */
async function storeInactive(rules: { source: string; ruleSet: CompiledRuleSet }): Promise<void> {
  await stack.engine.database.db
    .insertInto('rule_sets')
    .values({ version: rules.ruleSet.hash, name: rules.ruleSet.name, source: rules.source, compiled: JSON.stringify(rules.ruleSet) })
    .onConflict((oc) => oc.column('version').doNothing())
    .execute();
}

/** Two fresh clients of one company (module on): the first German, the second English. */
const pair = async () => (await companyOverHttp(stack, ['Nordkurier', 'Westkurier'])).clients;
const live = (id: string, key: string) => send('GET', `/v1/machines/live/${encodeURIComponent(id)}`, key);
const verdict = (body: any, event: string, role: string) => body.possible.find((p: any) => p.event === event && p.role === role);

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

  test('the version switch: a published version that is not the active one brings its own rules to the edges', async () => {
    const stricter = stricterRules('machines-switch');
    await storeInactive(stricter);
    const res = await send('GET', `/v1/machines?ruleSetVersion=${stricter.ruleSet.hash}`, undefined);
    expect(res.status).toBe(200);
    expect(res.body.ruleSet).toEqual({ version: stricter.ruleSet.hash, name: 'machines-switch', active: false });
    expect(res.body.versions).toContainEqual(expect.objectContaining({ version: stricter.ruleSet.hash, active: false }));
    const [connection, cart] = res.body.machines;
    expect(connection.edges.find((e: any) => e.from === 'invited' && e.event === 'accept').rules.map((r: any) => r.id)).toEqual(['accept-same-language']);
    expect(cart.edges.find((e: any) => e.event === 'activate').rules.map((r: any) => r.id)).toEqual(['activate-german-sellers']);
    expect(connection.svg).toContain('rule accept-same-language');
    expect(cart.svg).toContain('rule activate-german-sellers');

    const active = (await send('GET', '/v1/machines', undefined)).body;
    expect(active.ruleSet.version).not.toBe(stricter.ruleSet.hash);
    expect(active.machines[0].edges.find((e: any) => e.from === 'invited' && e.event === 'accept').rules).toEqual([]);
    expect(active.machines[0].svg).not.toContain('accept-same-language');
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
    expect(res.body.warnings).toEqual([]);
    const pinnedMachines = (await send('GET', `/v1/machines?ruleSetVersion=${expected.ruleSetVersion}`, undefined)).body.machines;
    expect(res.body.svg).toBe(pinnedMachines.find((m: any) => m.name === 'connection').svg);
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

describe('the live view of a connection or cart pinned to another rule set than the active one', () => {
  const wf = (workflowId: string) => stack.engine.client.workflow.getHandle(workflowId);

  test('draws, names and checks the pinned version: its accept rule refuses, the active one would not', async () => {
    const stricter = stricterRules('machines-pinned');
    await storeInactive(stricter);
    const [source, target] = await pair();
    const invited = await send('POST', '/v1/connections', source!.apiKey, { targetClientId: target!.id, offerAccess: true });
    expect(invited.status).toBe(201);
    const before = await live(invited.body.id, target!.apiKey);
    const activeVersion = before.body.activeRuleSetVersion;
    expect(before.body.pinnedRuleSet.version).toBe(activeVersion);
    expect(verdict(before.body, 'accept', 'target')).toMatchObject({ allowed: true, guards: 'checked' });

    // A second version after the start: the connection is pinned to it, the active one stays.
    await wf(before.body.workflowId).executeUpdate(upgradeRulesUpdate, { args: [{ ruleSet: stricter.ruleSet }] });
    const after = await live(invited.body.id, target!.apiKey);
    expect(after.status).toBe(200);
    expect(after.body.state.ruleSetVersion).toBe(stricter.ruleSet.hash);
    expect(after.body.pinnedRuleSet).toEqual({ version: stricter.ruleSet.hash, name: 'machines-pinned' });
    expect(after.body.activeRuleSetVersion).toBe(activeVersion);
    expect(after.body.warnings).toEqual([]);
    expect(after.body.svg).toContain('rule accept-same-language');
    expect(after.body.svg).toContain('rule set machines-pinned');
    expect(verdict(after.body, 'accept', 'target')).toMatchObject({
      allowed: false, guards: 'checked', refusal: { rule: 'accept-same-language', message: 'Westkurier may only accept links from clients of its own language' },
    });
    // The rules are asked exactly for the commands the table marks `guarded`.
    const guarded = new Set<string>(flaggedCommands(connectionCommands, 'guarded'));
    for (const p of after.body.possible) {
      const machineRefused = !p.allowed && p.refusal.rule === null;
      expect(p.guards, `${p.event}:${p.role}`).toBe(guarded.has(p.event) && !machineRefused ? 'checked' : 'none');
    }
    // The page's own drawing, of the active version, does not carry it.
    expect((await send('GET', '/v1/machines', undefined)).body.machines[0].svg).not.toContain('accept-same-language');
  });

  test("a cart's guards read the seller's real facts, under the version the cart is pinned to", async () => {
    const stricter = stricterRules('machines-pinned');
    await storeInactive(stricter);
    const [, seller] = await pair(); // English-language
    const offer = await send('POST', '/v1/offers', seller!.apiKey, { title: 'Digitalabo West', priceMinor: 999, currency: 'EUR', crossClient: false, products: [{ name: 'Abo', costCenter: 'KST-1' }] });
    const cart = await send('POST', '/v1/carts', seller!.apiKey, { title: 'Westabo', items: [{ offerId: offer.body.id, mandatory: true }] });
    expect(cart.status).toBe(201);
    const workflowId = (await live(cart.body.id, seller!.apiKey)).body.workflowId;
    await wf(workflowId).executeUpdate(cartUpgradeRulesUpdate, { args: [{ ruleSet: stricter.ruleSet }] });
    const res = await live(cart.body.id, seller!.apiKey);
    expect(res.body.pinnedRuleSet.version).toBe(stricter.ruleSet.hash);
    expect(res.body.svg).toContain('rule activate-german-sellers');
    expect(verdict(res.body, 'activate', 'seller')).toMatchObject({
      allowed: false, guards: 'checked', refusal: { rule: 'activate-german-sellers', message: 'Westkurier sells in en: only German-language sellers may activate carts' },
    });
    // The workflow agrees.
    expect((await send('POST', `/v1/carts/${cart.body.id}/activate`, seller!.apiKey)).body.error).toMatchObject({ code: 'RULE_REJECTED' });
  });

  test('a rule set never published here is said to be unknown: no rules drawn, no guard passed off as checked', async () => {
    const unpublished = stricterRules(`machines-unpublished-${randomUUID().slice(0, 8)}`);
    const [source, target] = await pair();
    const invited = await send('POST', '/v1/connections', source!.apiKey, { targetClientId: target!.id, offerAccess: true });
    const workflowId = (await live(invited.body.id, target!.apiKey)).body.workflowId;
    await wf(workflowId).executeUpdate(upgradeRulesUpdate, { args: [{ ruleSet: unpublished.ruleSet }] });
    const res = await live(invited.body.id, target!.apiKey);
    expect(res.status).toBe(200);
    expect(res.body.state.ruleSetVersion).toBe(unpublished.ruleSet.hash);
    expect(res.body.pinnedRuleSet).toBeNull();
    expect(res.body.warnings).toEqual([expect.stringContaining(`pinned to rule set ${unpublished.ruleSet.hash}, which was never published here`)]);
    expect(res.body.svg).toContain('without rules');
    expect(res.body.svg).not.toContain('class="rule"');
    expect(res.body.svg).not.toContain('class="mail"');
    expect(verdict(res.body, 'accept', 'target')).toMatchObject({ allowed: true, guards: 'unknown', refusal: null });
    expect(verdict(res.body, 'withdraw', 'source')).toMatchObject({ allowed: true, guards: 'none' });
  });
});

describe('the live view of a long-lived cart', () => {
  test('its timeline holds the steps of every run, before and after each continue-as-new', async () => {
    const [, seller] = await pair();
    const db = stack.engine.database.db;
    const offer = await send('POST', '/v1/offers', seller!.apiKey, { title: 'Digitalabo Lang', priceMinor: 999, currency: 'EUR', crossClient: false, products: [{ name: 'Abo', costCenter: 'KST-1' }] });
    // Started as createCart starts one, with a history limit low enough to continue as new soon.
    const cartId = randomUUID();
    const input: CartWorkflowInput = {
      cartId,
      clientId: seller!.id,
      title: 'Langzeitabo',
      items: await resolveItems(db, seller!.id, [{ offerId: offer.body.id, mandatory: true }]),
      seller: clientFacts((await getPartyFacts(db, seller!.id, CROSS_CLIENT_MODULE))!),
      ruleSetVersion: (await send('GET', '/v1/machines', undefined)).body.ruleSet.version,
      historyEventLimit: 30,
    };
    const handle = await stack.engine.client.workflow.start('cartWorkflow', { taskQueue: stack.engine.taskQueue, workflowId: cartWorkflowId(seller!.id, cartId), args: [input] });
    await handle.executeUpdate(cartCreatedUpdate, { args: [{ cartId }] });
    const firstRun = (await handle.describe()).runId;
    const rounds = 6;
    for (let i = 0; i < rounds; i++) {
      const res = await send('PUT', `/v1/carts/${cartId}/items`, seller!.apiKey, { items: [{ offerId: offer.body.id, mandatory: true, position: i }] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect((await send('POST', `/v1/carts/${cartId}/activate`, seller!.apiKey)).status).toBe(200);
    await expect.poll(async () => (await stack.engine.client.workflow.getHandle(handle.workflowId).describe()).runId !== firstRun, { timeout: 15_000 }).toBe(true);

    const res = await live(cartId, seller!.apiKey);
    expect(res.status).toBe(200);
    expect(res.body.runId).not.toBe(firstRun);
    const steps = res.body.history.map((h: any) => h.event);
    expect(steps[0]).toBe('start');
    expect(steps.filter((e: string) => e === 'start')).toHaveLength(1);
    expect(steps.filter((e: string) => e === 'setItems')).toHaveLength(rounds);
    expect(steps.filter((e: string) => e === 'activate')).toHaveLength(1);
    expect(steps).toContain('continued as new');
    expect(steps.indexOf('setItems')).toBeLessThan(steps.indexOf('continued as new')); // the first run's steps are kept
    const times = res.body.history.map((h: any) => h.at);
    expect(times).toEqual([...times].sort());
    expect(res.body.history.find((h: any) => h.event === 'setItems').actor).toBe(seller!.id);
  });
});
