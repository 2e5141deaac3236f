import { afterAll, beforeAll, expect, test } from 'vitest';
import { fromTemporalError } from '../../api/errors.ts';
import { getConnection, getConnectionHistory } from '../../db/connection.repository.ts';
import { connectionUpdates } from '../../workflows/messages.ts';
import { invite } from '../support/connections.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { createCompany } from '../support/fixtures.ts';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(() => engine?.stop());

async function invitation() {
  const { clients } = await createCompany(engine.database.db, {
    clients: [
      { name: 'Quelle', language: 'de' },
      { name: 'Ziel', language: 'de' },
    ],
  });
  const [a, b] = [clients[0]!, clients[1]!];
  const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true });
  return { a, b, handle, id: view.id };
}

// As a client sees it (the API's mapping): the loser may also reach a run that the winner has
// already closed (withdrawn is final), which reads as INVALID_TRANSITION like any refusal.
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => fromTemporalError(e)?.code ?? `unexpected: ${String(e)}`,
  );

test('accept and withdraw at the same moment: exactly one wins', async () => {
  for (let round = 0; round < 5; round++) {
    const { a, b, handle, id } = await invitation();
    const results = await Promise.all([
      outcome(handle.executeUpdate(connectionUpdates.accept, { args: [{ connectionId: id, actor: b.id }] })),
      outcome(handle.executeUpdate(connectionUpdates.withdraw, { args: [{ connectionId: id, actor: a.id }] })),
    ]);
    expect([...results].sort()).toEqual(['INVALID_TRANSITION', 'ok']);
    const row = await getConnection(engine.database.db, id);
    expect(row?.status).toBe(results[0] === 'ok' ? 'active' : 'withdrawn');
    expect(await getConnectionHistory(engine.database.db, id)).toHaveLength(2);
  }
});

test('the target accepting twice at once is accepted once', async () => {
  const { b, handle, id } = await invitation();
  const results = await Promise.all(
    [1, 2, 3].map(() => outcome(handle.executeUpdate(connectionUpdates.accept, { args: [{ connectionId: id, actor: b.id }] }))),
  );
  expect(results.sort()).toEqual(['INVALID_TRANSITION', 'INVALID_TRANSITION', 'ok']);
  expect((await getConnection(engine.database.db, id))?.version).toBe(2);
  await engine.smtp.waitFor((m) => m.messageId.includes(id), 2);
  expect(engine.smtp.mails.filter((m) => m.messageId === `<${id}.2.accepted@ccx>`)).toHaveLength(1);
});

test('a command that reaches a run the winner already closed is refused like any forbidden transition', async () => {
  const { a, b, handle, id } = await invitation();
  await handle.executeUpdate(connectionUpdates.withdraw, { args: [{ connectionId: id, actor: a.id }] });
  await handle.result(); // withdrawn is final: the run has ended
  const late = await outcome(handle.executeUpdate(connectionUpdates.accept, { args: [{ connectionId: id, actor: b.id }] }));
  expect(late).toBe('INVALID_TRANSITION');
  expect((await getConnection(engine.database.db, id))?.status).toBe('withdrawn');
});
