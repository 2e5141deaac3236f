/**
 * The /machines page in a real Chromium (the OS package, driven by playwright-core) against a
 * real stack: Temporal dev server, database, SMTP sink, worker, API listening on a port. Every
 * request the page makes to another host fails the suite — also one its Content-Security-Policy
 * blocks before any request exists (a CDN stylesheet, an `@import`, a `fetch`): the page reports
 * each violation. Screenshots go to test-results/browser/. Alone in its run, this file may publish
 * a rule set (it makes the default one active again at the end).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_RULES_FILE } from '../../api/rule-set.service.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { buildWorld, type World } from '../support/world.ts';

const CHROMIUM = process.env.CCX_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = new URL('../../test-results/browser/', import.meta.url).pathname;
const TEMPORAL_UI = 'http://temporal-ui.invalid:8233';

let stack: TestStack;
let world: World;
let base: string;
let browser: Browser;
let page: Page;
const foreign: string[] = [];

const send = async (method: string, url: string, key: string | undefined, body?: unknown) => {
  const res = await stack.app.inject({ method: method as 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {}, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as any) : undefined };
};

beforeAll(async () => {
  // Loud, never a skip: without Chromium this suite has not run.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: npm run test:browser installs the OS package (apt-get install -y chromium)`);
  mkdirSync(SHOTS, { recursive: true });
  stack = await startTestStack({ temporalUiUrl: TEMPORAL_UI });
  world = await buildWorld(send, stack.operatorKey);
  await stack.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  // Anything not from the API's own origin is recorded and never reaches the network.
  await context.route((url) => url.origin !== base && url.protocol !== 'data:', async (route) => {
    foreign.push(route.request().url());
    await route.abort();
  });
  // The CSP blocks a foreign load before it becomes a request the route could see: the page
  // reports each violation, and Chromium logs it ("Refused to …", lately "Loading … violates the
  // following Content Security Policy directive …").
  await context.exposeFunction('ccxCspViolation', (v: string) => foreign.push(`CSP violation: ${v}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { ccxCspViolation(v: string): void }).ccxCspViolation(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  page = await context.newPage();
  page.on('pageerror', (error) => foreign.push(`page error: ${error.message}`));
  page.on('websocket', (ws) => foreign.push(`websocket ${ws.url()}`));
  page.on('console', (message) => {
    if (/^Refused to|Content Security Policy/.test(message.text())) foreign.push(`console: ${message.text()}`);
  });
});
afterEach(async () => {
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50))); // reports still on their way
  expect(foreign, 'requests to another host, CSP violations or page errors').toEqual([]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const stateQuery = async (workflowId: string) =>
  stack.engine.client.workflow.getHandle(workflowId).query<{ value: string; version: number; ruleSetVersion: string }>('state');

async function openLive(key: string, id: string): Promise<void> {
  await page.fill('[data-testid=live-key]', key);
  await page.fill('[data-testid=live-id]', id);
  await page.click('[data-testid=live-show]');
  await page.waitForSelector('#live-view:not([hidden]), [data-testid=live-error]:not([hidden])');
}

describe('/machines', () => {
  test('shows both machines drawn from their definitions, with the active rules and mails on the edges', async () => {
    await page.goto(`${base}/machines`);
    await page.waitForSelector('article[data-machine=cart] svg');
    const connection = page.locator('article[data-machine=connection] svg');
    await expect(connection.locator('[data-state=blocked]').count()).resolves.toBe(1);
    await expect(connection.locator('text=rule callback-required').count()).resolves.toBe(1);
    await expect(connection.locator('text=mail accepted to source').count()).resolves.toBe(1);
    await expect(page.locator('[data-testid=rule-set] option:checked').textContent()).resolves.toContain('(active)');
    await page.screenshot({ path: `${SHOTS}diagrams.png`, fullPage: true });
  });

  test('the simulator walks the connection into a rule refusal, then through an invitation to a block', async () => {
    await page.goto(`${base}/machines#simulator`);
    await page.waitForSelector('#sim-events button');
    await page.selectOption('[data-testid=sim-actor]', 'source');
    await page.uncheck('#sim-scenario input[name=sameCompany]'); // another company, and no callback
    await page.click('#sim-events button[data-event=invite]');
    const result = page.locator('[data-testid=sim-result]');
    await expect.poll(() => result.getAttribute('data-outcome')).toBe('refused');
    await expect(result.getAttribute('data-rule')).resolves.toBe('callback-required');
    await expect(result.textContent()).resolves.toContain('needs a callback');
    await page.locator('#simulator').screenshot({ path: `${SHOTS}simulator-refusal.png` });

    await page.check('#sim-scenario input[name=hasCallback]');
    await page.click('#sim-events button[data-event=invite]');
    await expect.poll(() => page.inputValue('[data-testid=sim-state]')).toBe('invited');
    await page.selectOption('[data-testid=sim-actor]', 'source');
    await page.click('#sim-events button[data-event=accept]');
    await expect.poll(() => result.textContent()).toContain('FORBIDDEN_ACTOR');
    await page.selectOption('[data-testid=sim-actor]', 'target');
    await page.click('#sim-events button[data-event=accept]');
    await expect.poll(() => page.inputValue('[data-testid=sim-state]')).toBe('active');
    await page.click('#sim-events button[data-event=block]');
    await expect.poll(() => page.inputValue('[data-testid=sim-state]')).toBe('blocked');
    await expect(page.locator('#sim-drawing .state.current').getAttribute('data-state')).resolves.toBe('blocked');
    await page.locator('#simulator').screenshot({ path: `${SHOTS}simulator-walk.png` });
  });

  test("the viewer sees a real connection live, in the state its workflow's `state` query answers", async () => {
    const connection = (await send('GET', `/v1/connections/${world.connectionId}`, world.source.apiKey)).body;
    const expected = await stateQuery(connection.workflowId);
    await page.goto(`${base}/machines#live`);
    await openLive(world.viewerKey, world.connectionId);
    await expect(page.textContent('[data-testid=live-state]')).resolves.toBe(expected.value);
    await expect(page.textContent('[data-testid=live-version]')).resolves.toBe(String(expected.version));
    await expect(page.getAttribute('[data-testid=live-pinned]', 'data-version')).resolves.toBe(expected.ruleSetVersion);
    await expect(page.getAttribute('[data-testid=live-temporal]', 'href')).resolves.toContain(`${TEMPORAL_UI}/namespaces/`);
    await expect(page.locator('#live-drawing .state.current').getAttribute('data-state')).resolves.toBe(expected.value);
    await expect(page.locator('#live-possible tr[data-allowed=true]').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('#live-history li').count()).resolves.toBeGreaterThanOrEqual(2); // invited, accepted
    await page.locator('#live').screenshot({ path: `${SHOTS}live-connection.png` });
  });

  test("the seller sees its real cart live, in the state its workflow's `state` query answers", async () => {
    const cart = (await send('GET', `/v1/carts/${world.cartId}`, world.seller.apiKey)).body;
    const expected = await stateQuery(cart.workflowId);
    await page.goto(`${base}/machines#live`);
    await openLive(world.seller.apiKey, world.cartId);
    await expect(page.textContent('[data-testid=live-state]')).resolves.toBe(expected.value);
    await expect(page.textContent('[data-testid=live-version]')).resolves.toBe(String(expected.version));
    await expect(page.locator('#live-history li', { hasText: 'activate' }).count()).resolves.toBe(1);
    await page.locator('#live').screenshot({ path: `${SHOTS}live-cart.png` });
  });

  test("a client key cannot open another client's connection", async () => {
    await page.goto(`${base}/machines#live`);
    await openLive(world.stranger.apiKey, world.connectionId);
    await expect(page.textContent('[data-testid=live-error]')).resolves.toContain('404 NOT_FOUND');
    await expect(page.isHidden('#live-view')).resolves.toBe(true);
    // Nor by its workflow id.
    const connection = (await send('GET', `/v1/connections/${world.connectionId}`, world.source.apiKey)).body;
    await openLive(world.stranger.apiKey, connection.workflowId);
    await expect(page.textContent('[data-testid=live-error]')).resolves.toContain('404 NOT_FOUND');
    await page.locator('#live').screenshot({ path: `${SHOTS}live-refused.png` });
  });

  test('a rule set published after the start: the live view draws the pinned one, the version switch the new one', async () => {
    const connection = (await send('GET', `/v1/connections/${world.connectionId}`, world.source.apiKey)).body;
    const pinned = (await stateQuery(connection.workflowId)).ruleSetVersion;
    const defaults = readFileSync(DEFAULT_RULES_FILE, 'utf8');
    const stricter = defaults.replace('name: default\n', 'name: browser-stricter\n').replace('guards:\n', `guards:
  connection.accept:
    - id: accept-same-language
      require: source.language == target.language
      message: "{{ target.name }} may only accept links from clients of its own language"
`);
    const published = await stack.app.inject({ method: 'POST', url: '/v1/rule-sets', headers: { authorization: `Bearer ${stack.operatorKey}`, 'content-type': 'application/yaml' }, payload: stricter });
    expect(published.statusCode, published.body).toBe(201);
    const newVersion = published.json().version as string;
    try {
      await page.goto(`${base}/machines#live`);
      await page.reload(); // a fragment alone does not load the page again
      await page.waitForSelector('article[data-machine=connection] svg');
      // The page's version switch: the new version, active, its rule on the edge it governs.
      await expect(page.locator('[data-testid=rule-set] option:checked').textContent()).resolves.toMatch(/browser-stricter .*\(active\)/);
      await expect(page.locator('article[data-machine=connection] svg').locator('text=rule accept-same-language').count()).resolves.toBe(1);

      await openLive(world.viewerKey, world.connectionId);
      await expect(page.getAttribute('[data-testid=live-pinned]', 'data-version')).resolves.toBe(pinned);
      await expect(page.textContent('[data-testid=live-pinned]')).resolves.toContain('not the active one');
      const drawing = page.locator('[data-testid=live-drawing] svg');
      await expect(drawing.locator('text=rule callback-required').count()).resolves.toBe(1);
      await expect(drawing.locator('text=rule accept-same-language').count()).resolves.toBe(0);
      await expect(page.isHidden('[data-testid=live-warnings]')).resolves.toBe(true);
      await page.locator('#live').screenshot({ path: `${SHOTS}live-pinned-not-active.png` });

      // Switching to the version that is no longer active brings its rules back to the diagrams.
      await page.selectOption('[data-testid=rule-set]', pinned);
      await expect.poll(() => page.locator('article[data-machine=connection] svg').locator('text=rule accept-same-language').count()).toBe(0);
      await expect(page.locator('[data-testid=rule-set] option:checked').textContent()).resolves.not.toContain('(active)');
      await expect(page.locator('[data-testid=live-drawing] svg').locator('text=rule accept-same-language').count()).resolves.toBe(0);
    } finally {
      const restored = await stack.app.inject({ method: 'POST', url: `/v1/rule-sets/${pinned}/activate`, headers: { authorization: `Bearer ${stack.operatorKey}` } });
      expect(restored.statusCode, restored.body).toBe(200);
    }
    expect(newVersion).not.toBe(pinned);
  });
});
