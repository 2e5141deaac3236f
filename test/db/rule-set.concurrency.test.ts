import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { publishRuleSet } from '../../db/rule-set.repository.ts';

// Real PostgreSQL only (vitest.config.ts). A database of its own: "the active rule set" is
// global, and this test leaves an arbitrary one active.
const url = new URL(inject('databaseUrl'));
const name = `${url.pathname.slice(1)}_publish`;
url.pathname = `/${name}`;
let admin: DatabaseHandle;
let handle: DatabaseHandle;

beforeAll(async () => {
  admin = openDatabase(inject('databaseUrl'));
  await sql`drop database if exists ${sql.id(name)}`.execute(admin.db);
  await sql`create database ${sql.id(name)}`.execute(admin.db);
  handle = openDatabase(url.toString(), { max: 10 });
  await migrateToLatest(handle.db);
});
afterAll(async () => {
  await handle?.close();
  await sql`drop database if exists ${sql.id(name)}`.execute(admin.db);
  await admin.close();
});

test('concurrent publishes all succeed and the last one wins', async () => {
  for (let round = 0; round < 5; round++) {
    const versions = Array.from({ length: 8 }, (_, i) => `${round}.${i}-${randomUUID()}`);
    const results = await Promise.allSettled(
      versions.map((version) => publishRuleSet(handle.db, { version, name: version, source: 'rules: []', compiled: {} })),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const rows = await handle.db
      .selectFrom('rule_sets')
      .select(['version', 'active', 'activated_at'])
      .where('version', 'in', versions)
      .execute();
    const active = rows.filter((r) => r.active);
    expect(active).toHaveLength(1);
    // Every one was activated in its turn; the one still active is the one activated last.
    const activatedAt = rows.map((r) => r.activated_at?.getTime() ?? 0);
    expect(activatedAt).not.toContain(0);
    expect(active[0]!.activated_at?.getTime()).toBe(Math.max(...activatedAt));
  }
});
