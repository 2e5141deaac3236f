import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import {
  findOpenConnection,
  getConnection,
  getConnectionHistory,
  insertHistory,
  listConnections,
  listOpenConnectionsOfCompany,
  toConnectionView,
  upsertConnection,
} from '../../db/connection.repository.ts';
import { InvalidCursorError } from '../../db/id-cursor.ts';
import { connectionWorkflowId } from '../../workflows/messages.ts';
import { type ConnectionStatus, type ConnectionView } from '../../domain/connection.ts';
import { testDatabase, newId } from '../support/database.ts';

const handle = testDatabase();
const db = handle.db;
afterAll(() => handle.close());

/** A contracting company with `count` clients; returns the client ids. */
async function company(count: number): Promise<{ id: string; clients: string[] }> {
  const id = newId();
  await db.insertInto('contracting_companies').values({ id, name: `Company ${id}` }).execute();
  const clients = Array.from({ length: count }, () => newId());
  for (const client of clients) {
    await db
      .insertInto('clients')
      .values({ id: client, contracting_company_id: id, name: `Client ${client}`, email: `${client}@example.test`, language: 'de' })
      .execute();
  }
  return { id, clients };
}

function view(source: string, target: string, overrides: Partial<ConnectionView> = {}): ConnectionView {
  const at = overrides.createdAt ?? new Date().toISOString();
  return {
    id: randomUUID(),
    workflowId: connectionWorkflowId(source, target),
    sourceClientId: source,
    targetClientId: target,
    status: 'invited',
    offerAccess: true,
    blockedBy: null,
    expiresAt: null,
    createdAt: at,
    updatedAt: at,
    version: 1,
    ruleSetVersion: null,
    ...overrides,
  };
}

async function stored(v: ConnectionView): Promise<ConnectionView> {
  await upsertConnection(db, v);
  return v;
}

describe('the connection row', () => {
  test('a newer version replaces the stored row', async () => {
    const { clients: [a, b] } = await company(2);
    const v1 = await stored(view(a!, b!));
    const wrote = await upsertConnection(db, { ...v1, status: 'active', version: 2 });
    expect(wrote).toBe(true);
    expect(await getConnection(db, v1.id)).toMatchObject({ status: 'active', version: 2 });
  });

  test('a stale version is ignored', async () => {
    const { clients: [a, b] } = await company(2);
    const v1 = view(a!, b!);
    await upsertConnection(db, { ...v1, status: 'blocked', blockedBy: a!, version: 3 });
    const wrote = await upsertConnection(db, { ...v1, status: 'active', version: 2 });
    expect(wrote).toBe(false);
    expect(await getConnection(db, v1.id)).toMatchObject({ status: 'blocked', blocked_by: a, version: 3 });
  });

  test('the same version written twice is written once', async () => {
    const { clients: [a, b] } = await company(2);
    const v1 = await stored(view(a!, b!));
    expect(await upsertConnection(db, { ...v1, status: 'declined' })).toBe(false);
    expect((await getConnection(db, v1.id))?.status).toBe('invited');
  });

  test('writing a new version keeps the callback URL the source changed since', async () => {
    const { clients: [a, b] } = await company(2);
    const v1 = await stored(view(a!, b!, { callback: { url: 'https://source.example/cb' } }));
    await db.updateTable('connections').set({ callback_url: 'https://source.example/new' }).where('id', '=', v1.id).execute();
    await upsertConnection(db, { ...v1, status: 'active', version: 2 });
    expect(await getConnection(db, v1.id)).toMatchObject({ callback_url: 'https://source.example/new', status: 'active' });
  });

  test('a stored view reads back unchanged, callback URL and rejection included', async () => {
    const { clients: [a] } = await company(1);
    const v = view(a!, newId(), {
      status: 'rejected',
      expiresAt: '2026-12-27T10:00:00.000Z',
      ruleSetVersion: 'sha256:abc',
      callback: { url: 'https://source.example/cb' },
      rejection: { code: 'TARGET_NOT_FOUND', message: 'the target client does not exist' },
    });
    await upsertConnection(db, v);
    expect(toConnectionView((await getConnection(db, v.id))!)).toEqual(v);
  });

  test('a view without callback or rejection has neither field', async () => {
    const { clients: [a, b] } = await company(2);
    const v = await stored(view(a!, b!));
    const read = toConnectionView((await getConnection(db, v.id))!);
    expect(read).toEqual(v);
    expect(read).not.toHaveProperty('callback');
    expect(read).not.toHaveProperty('rejection');
  });
});

describe('the connection history', () => {
  test('a transition is recorded once however often it is written', async () => {
    const { clients: [a, b] } = await company(2);
    const v = await stored(view(a!, b!));
    const entry = { connectionId: v.id, version: 1, event: 'invite', actor: a!, from: null, to: 'invited', at: v.createdAt };
    await insertHistory(db, entry);
    await insertHistory(db, { ...entry, event: 'retry-with-other-content' });
    const history = await getConnectionHistory(db, v.id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ event: 'invite', actor: a, from_status: null, to_status: 'invited' });
  });

  test('the history is listed in version order', async () => {
    const { clients: [a, b] } = await company(2);
    const v = await stored(view(a!, b!));
    const at = v.createdAt;
    await insertHistory(db, { connectionId: v.id, version: 3, event: 'block', actor: b!, from: 'active', to: 'blocked', at });
    await insertHistory(db, { connectionId: v.id, version: 1, event: 'invite', actor: a!, from: null, to: 'invited', at });
    await insertHistory(db, { connectionId: v.id, version: 2, event: 'accept', actor: b!, from: 'invited', to: 'active', at });
    expect((await getConnectionHistory(db, v.id)).map((h) => h.event)).toEqual(['invite', 'accept', 'block']);
  });
});

describe('listing a client’s connections', () => {
  // a is source of two and target of one; the third connection does not involve a at all.
  async function scene() {
    const { clients: [a, b, c, d] } = await company(4);
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const aToB = await stored(view(a!, b!, { createdAt: t(1), status: 'active' }));
    const aToC = await stored(view(a!, c!, { createdAt: t(2) }));
    const dToA = await stored(view(d!, a!, { createdAt: t(3) }));
    await stored(view(b!, c!, { createdAt: t(4) }));
    return { a: a!, aToB, aToC, dToA };
  }

  test('a client sees the connections where it is source or target, newest first', async () => {
    const { a, aToB, aToC, dToA } = await scene();
    const page = await listConnections(db, { clientId: a, limit: 10 });
    expect(page.items.map((r) => r.id)).toEqual([dToA.id, aToC.id, aToB.id]);
    expect(page.nextCursor).toBeNull();
  });

  test('the role "source" keeps the connections the client created', async () => {
    const { a, aToB, aToC } = await scene();
    const page = await listConnections(db, { clientId: a, role: 'source', limit: 10 });
    expect(page.items.map((r) => r.id)).toEqual([aToC.id, aToB.id]);
  });

  test('the role "target" keeps the connections the client was invited to', async () => {
    const { a, dToA } = await scene();
    const page = await listConnections(db, { clientId: a, role: 'target', limit: 10 });
    expect(page.items.map((r) => r.id)).toEqual([dToA.id]);
  });

  test('the status filter keeps the connections in that status', async () => {
    const { a, aToB } = await scene();
    const page = await listConnections(db, { clientId: a, status: 'active', limit: 10 });
    expect(page.items.map((r) => r.id)).toEqual([aToB.id]);
  });

  test('the cursor pages through all connections without gaps or repeats, even at equal creation times', async () => {
    const { clients: [a, ...targets] } = await company(6);
    const same = '2026-02-01T12:00:00.000Z';
    const views = [];
    for (const [i, target] of targets.entries()) {
      views.push(await stored(view(a!, target, { createdAt: i < 3 ? same : `2026-02-0${i}T12:00:00.000Z` })));
    }
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listConnections(db, { clientId: a!, limit: 2, cursor });
      pages.push(page.items.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const expected = [...views].sort((x, y) => y.createdAt.localeCompare(x.createdAt) || y.id.localeCompare(x.id));
    expect(pages.flat()).toEqual(expected.map((v) => v.id));
  });

  test('a malformed cursor is refused', async () => {
    await expect(listConnections(db, { clientId: newId(), limit: 2, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });
});

describe('open connections', () => {
  test('the open connection of a pair is found, its ended predecessors are not', async () => {
    const { clients: [a, b] } = await company(2);
    await stored(view(a!, b!, { status: 'ended', createdAt: '2026-03-01T00:00:00.000Z' }));
    const open = await stored(view(a!, b!, { status: 'blocked', blockedBy: b! }));
    expect((await findOpenConnection(db, a!, b!))?.id).toBe(open.id);
  });

  test.for<ConnectionStatus>(['declined', 'withdrawn', 'expired', 'ended', 'rejected'])(
    'a pair whose only connection is %s has no open connection',
    async (status) => {
      const { clients: [a, b] } = await company(2);
      await stored(view(a!, b!, { status }));
      expect(await findOpenConnection(db, a!, b!)).toBeUndefined();
    },
  );

  test('a company’s open connections are those where one of its clients is source or target', async () => {
    const [x, y, z] = [await company(1), await company(1), await company(1)];
    const [xc, yc, zc] = [x.clients[0]!, y.clients[0]!, z.clients[0]!];
    const asSource = await stored(view(xc, yc, { status: 'active' }));
    const asTarget = await stored(view(zc, xc, { status: 'invited' }));
    await stored(view(xc, zc, { status: 'ended' }));
    await stored(view(yc, zc, { status: 'active' }));
    const open = await listOpenConnectionsOfCompany(db, x.id);
    expect(open).toHaveLength(2);
    expect(open).toEqual(
      expect.arrayContaining([
        { connectionId: asSource.id, workflowId: asSource.workflowId },
        { connectionId: asTarget.id, workflowId: asTarget.workflowId },
      ]),
    );
  });
});
