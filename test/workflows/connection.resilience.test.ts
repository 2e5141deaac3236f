/**
 * What a connection does when its surroundings misbehave: a stalled SMTP server, a recipient
 * the server refuses for good, a malformed start from a caller going to Temporal directly.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getConnection } from '../../db/connection.repository.ts';
import { connectionUpdates } from '../../workflows/messages.ts';
import { invite } from '../support/connections.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { createCompany } from '../support/fixtures.ts';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  engine?.smtp.release();
  await engine?.stop();
});

async function pair() {
  const { clients } = await createCompany(engine.database.db, {
    clients: [
      { name: 'Landbote', language: 'de' },
      { name: 'Courier', language: 'en' },
    ],
  });
  return [clients[0]!, clients[1]!] as const;
}

test('an invitation expires on time while the SMTP server stalls; the mails follow once it answers', async () => {
  const [a, b] = await pair();
  engine.smtp.hold();
  const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true, invitationTtlMs: 1500 });
  await engine.smtp.waitFor((m) => m.messageId === `<${view.id}.1.invitation@ccx>`); // received, not acknowledged
  await expect.poll(async () => (await getConnection(engine.database.db, view.id))?.status, { timeout: 10_000 }).toBe('expired');
  engine.smtp.release();
  expect(await handle.result()).toMatchObject({ status: 'expired' });
  const [expired] = await engine.smtp.waitFor((m) => m.messageId === `<${view.id}.2.expired@ccx>`);
  expect(expired!.to).toBe(a.email);
});

test('a mail the server refuses for good does not stop the lifecycle', async () => {
  const [a, b] = await pair();
  engine.smtp.refuse(a.email); // the source's mailbox is gone
  const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true });
  await handle.executeUpdate(connectionUpdates.accept, { args: [{ connectionId: view.id, actor: b.id }] }); // mails the source: refused
  await handle.executeUpdate(connectionUpdates.end, { args: [{ connectionId: view.id, actor: a.id }] }); // mails the target
  expect(await handle.result()).toMatchObject({ status: 'ended', version: 3 });
  await engine.smtp.waitFor((m) => m.messageId === `<${view.id}.3.ended@ccx>`);
  const delivered = engine.smtp.mails.filter((m) => m.messageId.includes(view.id)).map((m) => m.template).sort();
  expect(delivered).toEqual(['ended', 'invitation']);
});

test('a malformed start fails the run with INVALID_REQUEST instead of retrying forever', async () => {
  const [a, b] = await pair();
  const handle = await engine.client.workflow.start('connectionWorkflow', {
    taskQueue: engine.taskQueue,
    workflowId: `malformed-${randomUUID()}`,
    args: [{ connectionId: randomUUID(), sourceClientId: a.id, targetClientId: b.id, offerAccess: true, invitationTtlMs: -1 }],
  });
  const err = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(ApplicationFailure);
  expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe('INVALID_REQUEST');
});

describe('direct starts that cannot work fail the run, visibly, instead of retrying for ever', () => {
  const start = (input: Record<string, unknown>) =>
    engine.client.workflow.start('connectionWorkflow', { taskQueue: engine.taskQueue, workflowId: `direct-${randomUUID()}`, args: [input] });
  const failureOf = async (handle: { result(): Promise<unknown> }) => {
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    let cause = (err as WorkflowFailedError).cause;
    while (cause && !(cause instanceof ApplicationFailure)) cause = cause.cause as Error | undefined;
    return cause as ApplicationFailure;
  };

  test('historyEventLimit 1 (a run that would continue as new for ever) is INVALID_REQUEST', async () => {
    const [a, b] = await pair();
    const handle = await start({ connectionId: randomUUID(), sourceClientId: a.id, targetClientId: b.id, offerAccess: true, historyEventLimit: 1 });
    expect(await failureOf(handle)).toMatchObject({ type: 'INVALID_REQUEST', message: expect.stringContaining('historyEventLimit') });
  });

  test('facts of the wrong shape are INVALID_REQUEST', async () => {
    const [a, b] = await pair();
    const handle = await start({ connectionId: randomUUID(), sourceClientId: a.id, targetClientId: b.id, offerAccess: true, facts: { source: a.id, target: null } });
    expect(await failureOf(handle)).toMatchObject({ type: 'INVALID_REQUEST', message: expect.stringContaining('facts.source') });
  });

  test('a rule set version nobody published is INVALID_REQUEST, and so are a version and a rule set together', async () => {
    const [a, b] = await pair();
    const unknown = await start({ connectionId: randomUUID(), sourceClientId: a.id, targetClientId: b.id, offerAccess: true, ruleSetVersion: 'f'.repeat(64) });
    expect(await failureOf(unknown)).toMatchObject({ type: 'INVALID_REQUEST', message: expect.stringContaining(`${'f'.repeat(64)} was never published`) });
    const [c, d] = await pair();
    const both = await start({ connectionId: randomUUID(), sourceClientId: c.id, targetClientId: d.id, offerAccess: true, ruleSetVersion: 'f'.repeat(64), ruleSet: {} as never });
    expect(await failureOf(both)).toMatchObject({ type: 'INVALID_REQUEST', message: expect.stringContaining('not both') });
  });

  test('well-shaped facts of clients that do not exist: the database refuses the row for good, and the run fails saying so', async () => {
    const party = (clientId: string) => ({ clientId, name: 'Ghost', email: 'ghost@example.test', language: 'en', contractingCompanyId: 'NOCOMPANY', moduleActive: true });
    const [source, target] = ['GHOSTSOURCE000000001', 'GHOSTTARGET000000002'];
    const handle = await start({ connectionId: randomUUID(), sourceClientId: source, targetClientId: target, offerAccess: true, facts: { source: party(source), target: party(target) } });
    expect(await failureOf(handle)).toMatchObject({ type: 'DATABASE_REJECTED', message: expect.stringContaining('SQLSTATE 23503') });
  }, 30_000);
});
