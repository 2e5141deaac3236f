/**
 * Mail delivery holds neither a lifecycle nor a pair, and loses nothing: transient SMTP failures
 * and our own misconfiguration (sender refused) are retried until the mail is out; only a refusal
 * of the recipient skips a mail, and it is recorded with its reason. Over HTTP, against the real
 * SMTP server of the test (docs/reliability.md).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { clientCalls } from '../api/support.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());
afterEach(() => {
  stack.engine.smtp.failSender(null);
  stack.engine.smtp.delayAcceptance(0);
});

const { as, ok } = clientCalls(() => stack.app);
const pair = async () => {
  const { clients } = await companyOverHttp(stack, ['Morgenpost', 'Abendblatt']);
  return clients as [HttpParty, HttpParty];
};
const invite = (a: HttpParty, b: HttpParty) => ok<{ id: string }>(a, 'POST', '/v1/connections', { targetClientId: b.id, offerAccess: true }, 201);
const mailId = (connectionId: string, version: number, template: string) => `<${connectionId}.${version}.${template}@ccx>`;

describe('mail delivery beside the lifecycle', () => {
  test('while SMTP answers 451, a connection runs to its end and its pair can be invited again; every mail follows once SMTP is back', async () => {
    const [a, b] = await pair();
    stack.engine.smtp.failSender(451);
    const first = await invite(a, b);
    await ok(b, 'POST', `/v1/connections/${first.id}/accept`);
    await ok(a, 'POST', `/v1/connections/${first.id}/end`);
    // The ended run must not keep the pair's workflow id while its mails wait for SMTP.
    const again = await as(a, 'POST', '/v1/connections', { targetClientId: b.id, offerAccess: true });
    expect(again.statusCode, again.body).toBe(201);
    expect(stack.engine.smtp.mails.filter((m) => m.messageId.includes(first.id))).toHaveLength(0);

    stack.engine.smtp.failSender(null);
    const expected = [mailId(first.id, 1, 'invitation'), mailId(first.id, 2, 'accepted'), mailId(first.id, 3, 'ended'), mailId(again.json().id, 1, 'invitation')];
    await stack.engine.smtp.waitFor((m) => expected.includes(m.messageId), expected.length, 30_000);
    for (const id of expected) expect(stack.engine.smtp.countOf(id), id).toBe(1);
  });

  test('a mail stuck on one recipient does not hold the later mails of the same connection', async () => {
    const [a, b] = await pair();
    stack.engine.smtp.refuse(b.email, 452); // the target's mailbox is over quota for now
    const { id } = await invite(a, b); // invitation → target: stuck
    await ok(b, 'POST', `/v1/connections/${id}/accept`); // accepted → source
    await stack.engine.smtp.waitFor((m) => m.messageId === mailId(id, 2, 'accepted'), 1, 15_000);
    expect(stack.engine.smtp.countOf(mailId(id, 1, 'invitation'))).toBe(0);
    stack.engine.smtp.refuse(b.email, null);
    await stack.engine.smtp.waitFor((m) => m.messageId === mailId(id, 1, 'invitation'), 1, 30_000);
  });

  test('a relay slow to take one mail does not hold the next mails of the same worker', async () => {
    const [a, b] = await pair();
    stack.engine.smtp.delayAcceptance(15_000, b.email); // the invitation to b takes 15 s
    const { id } = await invite(a, b);
    await stack.engine.smtp.waitFor((m) => m.messageId === mailId(id, 1, 'invitation'), 1, 10_000); // on its way, not yet taken
    await ok(b, 'POST', `/v1/connections/${id}/accept`);
    await stack.engine.smtp.waitFor((m) => m.messageId === mailId(id, 2, 'accepted'), 1, 10_000);
    expect(await deliveryState(mailId(id, 1, 'invitation'))).toMatchObject({ state: 'pending' }); // still with the slow relay
  }, 40_000);

  test('a sender our relay refuses (550 on MAIL FROM) is our misconfiguration: the mail is retried, not dropped', async () => {
    const [a, b] = await pair();
    stack.engine.smtp.failSender(550);
    const { id } = await invite(a, b);
    await new Promise((r) => setTimeout(r, 3000)); // several attempts, all refused
    stack.engine.smtp.failSender(null);
    await stack.engine.smtp.waitFor((m) => m.messageId === mailId(id, 1, 'invitation'), 1, 30_000);
    await expect.poll(() => deliveryState(mailId(id, 1, 'invitation')), { timeout: 10_000 }).toMatchObject({ state: 'sent' });
  });

  test('while the relay refuses our sender, the mail shows as retrying with the reason, and /health reports mail failing', async () => {
    const [a, b] = await pair();
    stack.engine.smtp.failSender(553);
    const { id } = await invite(a, b);
    await expect
      .poll(() => deliveryState(mailId(id, 1, 'invitation')), { timeout: 10_000 })
      .toMatchObject({ state: 'pending', lastErrorKind: 'configuration', lastError: expect.stringContaining('553') });
    const health = await stack.app.inject({ method: 'GET', url: '/health' });
    expect(health.json().mail).toMatchObject({ status: 'failing', lastErrorKind: 'configuration' });
  });

  test('a recipient the server refuses for good is skipped, and the skip is recorded with its reason', async () => {
    const [a, b] = await pair();
    stack.engine.smtp.refuse(b.email, 550);
    const { id } = await invite(a, b);
    await expect
      .poll(() => deliveryState(mailId(id, 1, 'invitation')), { timeout: 15_000 })
      .toMatchObject({ state: 'skipped', reason: expect.stringContaining('550') });
    expect(stack.engine.smtp.countOf(mailId(id, 1, 'invitation'))).toBe(0);
  });

  test('a relay that takes 22 s to acknowledge gets each mail once (the delivery keeps its claim while it waits)', async () => {
    const [a, b] = await pair();
    stack.engine.smtp.delayAcceptance(22_000);
    const { id } = await invite(a, b);
    const messageId = mailId(id, 1, 'invitation');
    await stack.engine.smtp.waitFor((m) => m.messageId === messageId, 1, 10_000);
    await new Promise((r) => setTimeout(r, 30_000)); // acknowledged after 22 s; a second attempt would have arrived by now
    expect(stack.engine.smtp.countOf(messageId)).toBe(1);
    expect(await deliveryState(messageId)).toMatchObject({ state: 'sent', attempts: 1 });
  }, 60_000);
});

/** What an operator sees of one mail (GET /v1/mails). */
async function deliveryState(messageId: string): Promise<Record<string, unknown> | undefined> {
  const res = await stack.app.inject({
    method: 'GET',
    url: `/v1/mails?messageId=${encodeURIComponent(messageId)}`,
    headers: { authorization: `Bearer ${stack.operatorKey}` },
  });
  if (res.statusCode !== 200) return { status: res.statusCode, body: res.body };
  return res.json().items[0];
}
