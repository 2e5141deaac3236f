/**
 * Rule sets end to end (issue 3): publishing over HTTP, new connections under the new version,
 * running ones pinned to theirs until `upgradeRules`, TTL and mail switches taking effect — on
 * the real dev server. This file has a database of its own: the active rule set is global.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { lookupPrefix } from '../../api/auth.ts';
import { DEFAULT_RULES_FILE, upgradeToActiveRuleSet } from '../../api/rule-set.service.ts';
import { findApiKeyByPrefix } from '../../db/api-key.repository.ts';
import type { CompiledRuleSet } from '../../rules/model.ts';
import { stateQuery, upgradeRulesUpdate } from '../../workflows/messages.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';
import { call } from './support.ts';

let stack: TestStack;
const defaultRules = readFileSync(DEFAULT_RULES_FILE, 'utf8');

beforeAll(async () => {
  stack = await startTestStack({ database: 'isolated' });
});
afterAll(async () => {
  await publish(defaultRules);
  await stack?.stop();
});

const yaml = { 'content-type': 'application/yaml' };
const publish = (source: string) => call(stack.app, stack.operatorKey, 'POST', '/v1/rule-sets', source, yaml);
const active = async () => (await call(stack.app, stack.operatorKey, 'GET', '/v1/rule-sets/active')).json();

type Party = HttpParty;
const company = async (names: string[]) => (await companyOverHttp(stack, names)).clients;
const callback = { url: 'https://hooks.example.test/ccx', secret: 'a-long-enough-callback-secret' };
const invite = (from: Party, to: Party, withCallback = false) =>
  call(stack.app, from.apiKey, 'POST', '/v1/connections', { targetClientId: to.id, offerAccess: true, ...(withCallback ? { callback } : {}) });
const command = (who: Party, id: string, name: string) => call(stack.app, who.apiKey, 'POST', `/v1/connections/${id}/${name}`);

const withinCompanyOnly = defaultRules.replace(
  'guards:\n',
  `guards:
  connection.accept:
    - id: accept-within-company-only
      require: source.company.id == target.company.id
      message: "{{ target.name }} may no longer accept links across contracting companies"
`,
).replace(
  // After the guards every rule set keeps (rules/invariants.ts).
  '      message: a connection to a client of another contracting company needs a callback {url, secret}\n',
  `      message: a connection to a client of another contracting company needs a callback {url, secret}
    - id: same-company-only
      require: source.company.id == target.company.id
      message: "{{ source.name }} may only connect within its own contracting company, not to {{ target.name }}"
`,
);

describe('publishing rule sets', () => {
  test('a valid rule set is stored by content hash and becomes active; publishing it again changes nothing', async () => {
    const first = await publish(defaultRules);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().version).toMatch(/^[0-9a-f]{64}$/);
    expect(await active()).toMatchObject({ version: first.json().version, source: defaultRules });
    const again = await publish(defaultRules);
    expect([again.statusCode, again.json().version]).toEqual([201, first.json().version]);
  });

  test('a broken rule set is 422 with every error located, and the active one stays', async () => {
    const before = await active();
    const broken = defaultRules.replace('require: source.company.moduleActive', 'require: source.company.moduleActiv').replace('P30D', 'P30X');
    const res = await publish(broken);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('RULE_SET_INVALID');
    const errors = res.json().error.details.errors as Array<{ code: string; line: number; column: number; hint?: string }>;
    const lines = broken.split('\n');
    const celLine = lines.findIndex((l) => l.includes('moduleActiv\n') || l.endsWith('moduleActiv')) + 1;
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'RULES_CEL_UNKNOWN_NAME', line: celLine, column: lines[celLine - 1]!.indexOf('moduleActiv') + 1 }),
        expect.objectContaining({ code: 'RULES_BAD_DURATION', line: lines.findIndex((l) => l.includes('P30X')) + 1 }),
      ]),
    );
    expect(errors.find((e) => e.code === 'RULES_CEL_UNKNOWN_NAME')?.hint).toContain('moduleActive');
    expect((await active()).version).toBe(before.version);
  });

  test('only operators publish; only YAML is accepted', async () => {
    const [client] = await company(['Solo']);
    const asClient = await call(stack.app, client!.apiKey, 'POST', '/v1/rule-sets', defaultRules, yaml);
    expect([asClient.statusCode, asClient.json().error.code]).toEqual([403, 'FORBIDDEN_ACTOR']);
    expect((await call(stack.app, undefined, 'POST', '/v1/rule-sets', defaultRules, yaml)).statusCode).toBe(401);
    const asJson = await call(stack.app, stack.operatorKey, 'POST', '/v1/rule-sets', { guards: {} });
    expect([asJson.statusCode, asJson.json().error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });
});

describe('versions are pinned per connection', () => {
  test('a new version refuses new invitations; running connections keep theirs until upgradeRules', async () => {
    await publish(defaultRules);
    const oldVersion = (await active()).version;
    const [a, b] = await company(['Morgenpost', 'Kurier']);
    const [c, d] = await company(['Abendblatt', 'Bote']);
    const pinned = (await invite(a!, c!, true)).json();
    const upgraded = (await invite(b!, c!, true)).json();
    expect([pinned.ruleSetVersion, upgraded.ruleSetVersion]).toEqual([oldVersion, oldVersion]);

    const published = await publish(withinCompanyOnly);
    expect(published.statusCode, published.body).toBe(201);
    const newVersion = published.json().version;

    const refused = await invite(a!, d!, true);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatchObject({
      code: 'RULE_REJECTED',
      message: 'Morgenpost may only connect within its own contracting company, not to Bote',
      details: { rule: 'same-company-only' },
    });
    const listed = (await call(stack.app, a!.apiKey, 'GET', '/v1/connections?role=source')).json();
    expect(listed.items.map((x: { id: string }) => x.id)).toEqual([pinned.id]); // the refusal left no trace

    // started under the old version: the old behaviour
    expect((await command(c!, pinned.id, 'accept')).json()).toMatchObject({ status: 'active', ruleSetVersion: oldVersion });

    // moved by the operator: the new behaviour
    const ruleSet = (await stack.engine.database.db.selectFrom('rule_sets').select('compiled').where('version', '=', newVersion).executeTakeFirstOrThrow())
      .compiled as CompiledRuleSet;
    const handle = stack.engine.client.workflow.getHandle(upgraded.workflowId);
    const moved = await handle.executeUpdate(upgradeRulesUpdate, { args: [{ ruleSet }] });
    expect(moved).toMatchObject({ ruleSetVersion: newVersion, status: 'invited', version: 2 });
    expect((await handle.query(stateQuery)).ruleSetVersion).toBe(newVersion);
    const refusedAccept = await command(c!, upgraded.id, 'accept');
    expect(refusedAccept.statusCode).toBe(422);
    expect(refusedAccept.json().error.message).toBe('Abendblatt may no longer accept links across contracting companies');
    const history = (await call(stack.app, b!.apiKey, 'GET', `/v1/connections/${upgraded.id}`)).json().history;
    expect(history.map((h: { event: string }) => h.event)).toEqual(['invite', 'upgradeRules']);

    await expect
      .poll(async () => {
        const ids: string[] = [];
        for await (const wf of stack.engine.client.workflow.list({ query: `RuleSetVersion='${newVersion}' AND TargetClientId='${c!.id}'` })) ids.push(wf.workflowId);
        return ids;
      }, { timeout: 10_000 })
      .toEqual([upgraded.workflowId]);

    // both histories, written across the publish and the upgrade, replay with today's code
    for (const workflowId of [pinned.workflowId, upgraded.workflowId]) {
      const recorded = await stack.engine.client.workflow.getHandle(workflowId).fetchHistory();
      await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundleCode') } }, recorded, workflowId)).resolves.toBeUndefined();
    }
  });
});

describe('the audit log', () => {
  const operatorKeyId = async () => (await findApiKeyByPrefix(stack.engine.database.db, lookupPrefix(stack.operatorKey)))!.id;
  const audited = async (query: string) => (await call(stack.app, stack.operatorKey, 'GET', `/v1/audit?${query}`)).json().items as any[];

  test('a publish that changes the active version is recorded with the version it replaced; publishing the active one again is not', async () => {
    await publish(defaultRules);
    const before = (await active()).version;
    const variant = `${defaultRules}# audited ${randomUUID()}\n`;
    const published = (await publish(variant)).json().version;
    expect((await publish(variant)).statusCode).toBe(201); // again: nothing changes
    const entries = (await audited(`action=rule-set.published&actor=${await operatorKeyId()}`)).filter((e) => e.subject === published);
    expect(entries).toEqual([
      expect.objectContaining({ actor: 'operator', keyId: await operatorKeyId(), subject: published, details: { name: 'default', previousVersion: before } }),
    ]);
  });

  test('an upgrade of a running connection (ccx rules upgrade) is recorded after it succeeded, with who ran it', async () => {
    await publish(defaultRules);
    const [a, b] = await company(['Rundschau', 'Anzeiger']);
    const connection = (await invite(a!, b!)).json();
    const newVersion = (await publish(`${defaultRules}# upgrade ${randomUUID()}\n`)).json().version;
    const actor = { principal: 'cli:tester', keyId: null };
    const { upgraded } = await upgradeToActiveRuleSet({ db: stack.engine.database.db, client: stack.engine.client }, { workflowId: connection.workflowId }, actor);
    expect(upgraded).toEqual([{ workflowId: connection.workflowId, entityId: connection.id, ruleSetVersion: newVersion, version: 2 }]);
    const entries = (await audited('action=rule-set.upgraded&actor=cli:tester')).filter((e) => e.subject === connection.workflowId);
    expect(entries).toEqual([
      expect.objectContaining({ actor: 'cli:tester', keyId: null, details: { entityId: connection.id, ruleSetVersion: newVersion, version: 2 } }),
    ]);
  });
});

describe('timers and mails follow the published rule set', () => {
  test('a shorter invitation TTL expires new invitations sooner', async () => {
    await publish(defaultRules.replace('invitationTtl: P30D', 'invitationTtl: PT2S'));
    const [a, b] = await company(['Tagblatt', 'Echo']);
    const created = (await invite(a!, b!)).json();
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(2000);
    await expect.poll(async () => (await call(stack.app, a!.apiKey, 'GET', `/v1/connections/${created.id}`)).json().status, { timeout: 15_000 }).toBe('expired');
    const [mail] = await stack.engine.smtp.waitFor((m) => m.messageId === `<${created.id}.2.expired@ccx>`);
    expect(mail!.to).toBe(a!.email);
  });

  test('a mail switched off is not sent; the others still are', async () => {
    await publish(defaultRules.replace('connection.accept: { template: accepted, recipient: source, enabled: true }', 'connection.accept: { template: accepted, recipient: source, enabled: false }'));
    const [a, b] = await company(['Merkur', 'Venus']);
    const { id } = (await invite(a!, b!)).json();
    await command(b!, id, 'accept');
    await command(a!, id, 'end');
    await stack.engine.smtp.waitFor((m) => m.messageId === `<${id}.3.ended@ccx>`);
    expect(stack.engine.smtp.mails.filter((m) => m.messageId.includes(id)).map((m) => m.template).sort()).toEqual(['ended', 'invitation']);
  });
});
