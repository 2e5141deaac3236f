/**
 * The change feed never lets a reader pass a row that commits later (real PostgreSQL: two
 * transactions at once). A row of a younger transaction that commits first waits until every
 * older transaction has ended, so the older one's row — which sorts before it — is never skipped.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { appendEvents, decodePosition, listEvents } from '../../db/event.repository.ts';
import { newId, testDatabase } from '../support/database.ts';

const handle = testDatabase();
afterAll(() => handle.close());

const event = (clientId: string, entityId: string) => ({ clientIds: [clientId], type: 'cart.changed' as const, entityId, data: {} });

describe('change feed positions', () => {
  test('a row committed while an older transaction runs waits for it, and both come in position order', async () => {
    const clientId = newId();
    const read = async (after?: string) =>
      (await listEvents(handle.db, { clientId, limit: 10, after: after === undefined ? undefined : decodePosition(after) })).map((e) => e.entityId);

    let releaseOlder!: () => void;
    const olderMayCommit = new Promise<void>((resolve) => (releaseOlder = resolve));
    let olderWrote!: () => void;
    const olderHasWritten = new Promise<void>((resolve) => (olderWrote = resolve));
    const older = handle.db.transaction().execute(async (trx) => {
      await appendEvents(trx, [event(clientId, 'older')]);
      olderWrote();
      await olderMayCommit;
    });
    await olderHasWritten;
    await handle.db.transaction().execute((trx) => appendEvents(trx, [event(clientId, 'younger')]));

    // The younger row is committed, but an older transaction still runs: it is not shown yet.
    expect(await read()).toEqual([]);
    releaseOlder();
    await older;
    // Other test files share this database: one of their transactions may hold both back a moment longer.
    const deadline = Date.now() + 10_000;
    while ((await read()).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await read()).toEqual(['older', 'younger']);
    const [first] = await listEvents(handle.db, { clientId, limit: 1 });
    expect(await read(first!.seq)).toEqual(['younger']);
  });
});
