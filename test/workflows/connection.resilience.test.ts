/**
 * What a connection does when its surroundings misbehave: a stalled SMTP server, a recipient
 * the server refuses for good, a malformed start from a caller going to Temporal directly.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, expect, test } from 'vitest';
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
  const delivered = engine.smtp.mails.filter((m) => m.messageId.includes(view.id)).map((m) => m.template);
  expect(delivered).toEqual(['invitation', 'ended']);
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
