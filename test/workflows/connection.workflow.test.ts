import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getConnection, getConnectionHistory } from '../../db/connection.repository.ts';
import type { connectionWorkflow } from '../../workflows/connection.workflow.ts';
import { connectionUpdates, stateQuery } from '../../workflows/messages.ts';
import { invite } from '../support/connections.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { createCompany, type TestClient } from '../support/fixtures.ts';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(() => engine?.stop());

async function pair(): Promise<[TestClient, TestClient]> {
  const company = await createCompany(engine.database.db, {
    clients: [
      { name: 'Morgenpost', language: 'de' },
      { name: 'Abendblatt', language: 'en' },
    ],
  });
  return [company.clients[0]!, company.clients[1]!];
}

async function refusalOf(promise: Promise<unknown>): Promise<string | undefined> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return (cause as ApplicationFailure).type ?? undefined;
}

describe('connection workflow on the real dev server', () => {
  test('a whole lifecycle writes the read model, the history and every mail', async () => {
    const [a, b] = await pair();
    const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true });
    const id = view.id;
    expect(view).toMatchObject({ status: 'invited', version: 1, sourceClientId: a.id, targetClientId: b.id });

    const cmd = { connectionId: id };
    expect(await handle.executeUpdate(connectionUpdates.accept, { args: [{ ...cmd, actor: b.id }] })).toMatchObject({ status: 'active', version: 2 });
    expect(await handle.executeUpdate(connectionUpdates.block, { args: [{ ...cmd, actor: b.id }] })).toMatchObject({ status: 'blocked', blockedBy: b.id, version: 3 });
    expect(await refusalOf(handle.executeUpdate(connectionUpdates.unblock, { args: [{ ...cmd, actor: a.id }] }))).toBe('FORBIDDEN_ACTOR');
    expect(await handle.executeUpdate(connectionUpdates.unblock, { args: [{ ...cmd, actor: b.id }] })).toMatchObject({ status: 'active', blockedBy: null, version: 4 });
    const ended = await handle.executeUpdate(connectionUpdates.end, { args: [{ ...cmd, actor: a.id }] });
    expect(ended).toMatchObject({ status: 'ended', version: 5 });

    // read-your-writes: the row is there when the update returns
    const row = await getConnection(engine.database.db, id);
    expect(row).toMatchObject({ status: 'ended', version: 5 });
    const history = await getConnectionHistory(engine.database.db, id);
    expect(history.map((h) => [h.event, h.actor, h.from_status, h.to_status])).toEqual([
      ['invite', a.id, null, 'invited'],
      ['accept', b.id, 'invited', 'active'],
      ['block', b.id, 'active', 'blocked'],
      ['unblock', b.id, 'blocked', 'active'],
      ['end', a.id, 'active', 'ended'],
    ]);

    expect(await handle.result()).toMatchObject({ status: 'ended' });
    // Delivered side by side, so in any order: sorted by transition number.
    const transition = (m: { messageId: string }) => Number(m.messageId.split('.')[1]);
    const mails = (await engine.smtp.waitFor((m) => m.messageId.includes(id), 5)).sort((x, y) => transition(x) - transition(y));
    expect(mails.map((m) => [m.template, m.to, m.messageId])).toEqual([
      ['invitation', b.email, `<${id}.1.invitation@ccx>`],
      ['accepted', a.email, `<${id}.2.accepted@ccx>`],
      ['blocked', a.email, `<${id}.3.blocked@ccx>`],
      ['unblocked', a.email, `<${id}.4.unblocked@ccx>`],
      ['ended', b.email, `<${id}.5.ended@ccx>`],
    ]);
    // each party reads its mails in its own language
    expect(mails[0]!.subject).not.toEqual(mails[1]!.subject);
    expect(mails.filter((m) => m.to === a.email).every((m) => /[äöüß]|Mandant|Verknüpfung/i.test(m.subject + m.text))).toBe(true);
  });

  test('the state query and the search attributes show the connection to any Temporal client', async () => {
    const [a, b] = await pair();
    const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: false });
    await handle.executeUpdate(connectionUpdates.accept, { args: [{ connectionId: view.id, actor: b.id }] });
    const state = await handle.query(stateQuery);
    expect(state).toMatchObject({ value: 'active', version: 2, context: { connectionId: view.id, offerAccess: false } });
    expect(state.ruleSetVersion).toMatch(/^[0-9a-f]{64}$/);
    expect((await handle.describe()).memo).toEqual({ connectionId: view.id, ruleSetVersion: state.ruleSetVersion, ruleSetName: 'default' });

    await expect
      .poll(async () => {
        const ids: string[] = [];
        for await (const wf of engine.client.workflow.list({ query: `ConnectionStatus='active' AND TargetClientId='${b.id}'` })) ids.push(wf.workflowId);
        return ids;
      }, { timeout: 15_000 })
      .toEqual([handle.workflowId]);
  });

  test('the target declines and the source hears of it', async () => {
    const [a, b] = await pair();
    const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true });
    expect(await handle.executeUpdate(connectionUpdates.decline, { args: [{ connectionId: view.id, actor: b.id }] })).toMatchObject({ status: 'declined' });
    const [mail] = await engine.smtp.waitFor((m) => m.messageId === `<${view.id}.2.declined@ccx>`);
    expect(mail!.to).toBe(a.email);
  });

  test('the source withdraws and the target hears of it', async () => {
    const [a, b] = await pair();
    const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true });
    expect(await handle.executeUpdate(connectionUpdates.withdraw, { args: [{ connectionId: view.id, actor: a.id }] })).toMatchObject({ status: 'withdrawn' });
    const [mail] = await engine.smtp.waitFor((m) => m.messageId === `<${view.id}.2.withdrawn@ccx>`);
    expect(mail!.to).toBe(b.email);
  });

  test('switching offer access mails the target; setting the same value changes nothing', async () => {
    const [a, b] = await pair();
    const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true });
    const off = await handle.executeUpdate(connectionUpdates.setOfferAccess, { args: [{ connectionId: view.id, actor: a.id, offerAccess: false }] });
    expect(off).toMatchObject({ offerAccess: false, status: 'invited', version: 2 });
    const again = await handle.executeUpdate(connectionUpdates.setOfferAccess, { args: [{ connectionId: view.id, actor: a.id, offerAccess: false }] });
    expect(again.version).toBe(2);
    await engine.smtp.waitFor((m) => m.messageId === `<${view.id}.2.offerAccessChanged@ccx>` && m.to === b.email);
  });

  test('refused commands name their reason and change nothing', async () => {
    const [a, b] = await pair();
    const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true });
    const cmd = { connectionId: view.id };
    expect(await refusalOf(handle.executeUpdate(connectionUpdates.accept, { args: [{ ...cmd, actor: a.id }] }))).toBe('FORBIDDEN_ACTOR');
    expect(await refusalOf(handle.executeUpdate(connectionUpdates.block, { args: [{ ...cmd, actor: b.id }] }))).toBe('INVALID_TRANSITION');
    expect(await refusalOf(handle.executeUpdate(connectionUpdates.accept, { args: [{ ...cmd, actor: 'STRANGER000000000000' }] }))).toBe('NOT_FOUND');
    expect(await refusalOf(handle.executeUpdate(connectionUpdates.accept, { args: [{ connectionId: 'another-id', actor: b.id }] }))).toBe('INVALID_TRANSITION');
    expect((await handle.query(stateQuery)).version).toBe(1);
    expect((await getConnection(engine.database.db, view.id))?.version).toBe(1);
  });

  test('an invitation to oneself started directly on Temporal ends rejected, without mail', async () => {
    const [a] = await pair();
    const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: a.id, offerAccess: true });
    expect(view).toMatchObject({ status: 'rejected', rejection: { code: 'SELF_CONNECTION' } });
    await handle.result();
    expect(engine.smtp.mails.filter((m) => m.messageId.includes(view.id))).toEqual([]);
  });

  test('an invitation expires after its TTL and the source is told', async () => {
    const [a, b] = await pair();
    const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true, invitationTtlMs: 1500 });
    expect(await handle.result()).toMatchObject({ status: 'expired', version: 2, expiresAt: null });
    expect(await getConnection(engine.database.db, view.id)).toMatchObject({ status: 'expired' });
    const [mail] = await engine.smtp.waitFor((m) => m.messageId === `<${view.id}.2.expired@ccx>`);
    expect(mail!.to).toBe(a.email);
  });

  test('a long-lived connection continues as new with its state and id', async () => {
    const [a, b] = await pair();
    const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true, historyEventLimit: 40 });
    const first = (await handle.describe()).runId;
    await handle.executeUpdate(connectionUpdates.accept, { args: [{ connectionId: view.id, actor: b.id }] });
    let last = await handle.executeUpdate(connectionUpdates.block, { args: [{ connectionId: view.id, actor: a.id }] });
    for (let i = 0; i < 6; i++) {
      last = await handle.executeUpdate(connectionUpdates.unblock, { args: [{ connectionId: view.id, actor: a.id }] });
      last = await handle.executeUpdate(connectionUpdates.block, { args: [{ connectionId: view.id, actor: a.id }] });
    }
    expect(last).toMatchObject({ status: 'blocked', version: 15 });
    await expect.poll(async () => (await handle.describe()).runId !== first, { timeout: 15_000 }).toBe(true);
    const resumed = engine.client.workflow.getHandle<typeof connectionWorkflow>(handle.workflowId);
    expect(await resumed.query(stateQuery)).toMatchObject({ value: 'blocked', version: 15, context: { connectionId: view.id, blockedBy: a.id } });
    expect(await resumed.executeUpdate(connectionUpdates.end, { args: [{ connectionId: view.id, actor: b.id }] })).toMatchObject({ status: 'ended', version: 16 });
    await engine.smtp.waitFor((m) => m.messageId.includes(view.id), 16);
  });
});
