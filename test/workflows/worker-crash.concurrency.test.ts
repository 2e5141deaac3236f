/**
 * A worker process killed with SIGKILL in the middle of a lifecycle — while the SMTP server holds
 * a mail it has already received — and a new worker started: the lifecycle completes, every mail
 * arrives, and a mail sent twice carries the same Message-ID both times.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { getConnection, getConnectionHistory } from '../../db/connection.repository.ts';
import { connectionUpdates } from '../../workflows/messages.ts';
import { invite } from '../support/connections.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { createCompany } from '../support/fixtures.ts';
import { workerProcesses } from '../support/worker-process.ts';

let engine: TestEngine;
const workers = workerProcesses(() => engine);

beforeAll(async () => {
  engine = await startTestEngine({ worker: false });
});
afterAll(async () => {
  workers.killAll();
  engine.smtp.release();
  await engine?.stop();
});

test('a worker killed mid-lifecycle loses nothing', { timeout: 180_000 }, async () => {
  const { clients } = await createCompany(engine.database.db, {
    clients: [
      { name: 'Tagblatt', language: 'de' },
      { name: 'Herald', language: 'en' },
    ],
  });
  const [a, b] = [clients[0]!, clients[1]!];
  const first = await workers.start();
  const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true });
  const cmd = { connectionId: view.id };
  await handle.executeUpdate(connectionUpdates.accept, { args: [{ ...cmd, actor: b.id }] });
  await engine.smtp.waitFor((m) => m.messageId === `<${view.id}.2.accepted@ccx>`);

  engine.smtp.hold(); // the "blocked" mail will be received but never acknowledged
  await handle.executeUpdate(connectionUpdates.block, { args: [{ ...cmd, actor: b.id }] });
  await engine.smtp.waitFor((m) => m.messageId === `<${view.id}.3.blocked@ccx>`);
  await workers.kill(first);
  engine.smtp.release();

  await workers.start();
  await handle.executeUpdate(connectionUpdates.unblock, { args: [{ ...cmd, actor: b.id }] });
  await handle.executeUpdate(connectionUpdates.end, { args: [{ ...cmd, actor: a.id }] });
  expect(await handle.result()).toMatchObject({ status: 'ended', version: 5 });

  await engine.smtp.waitFor((m) => m.messageId.includes(view.id), 6, 30_000); // the held one twice
  const mails = engine.smtp.mails.filter((m) => m.messageId.includes(view.id));
  expect(new Set(mails.map((m) => m.messageId))).toEqual(
    new Set(['1.invitation', '2.accepted', '3.blocked', '4.unblocked', '5.ended'].map((s) => `<${view.id}.${s}@ccx>`)),
  );
  // the held mail went out again after the crash (its claim ran out), under the same Message-ID
  expect(mails.filter((m) => m.template === 'blocked').map((m) => m.messageId)).toEqual([
    `<${view.id}.3.blocked@ccx>`,
    `<${view.id}.3.blocked@ccx>`,
  ]);
  expect(await getConnection(engine.database.db, view.id)).toMatchObject({ status: 'ended', version: 5 });
  expect(await getConnectionHistory(engine.database.db, view.id)).toHaveLength(5);
});
