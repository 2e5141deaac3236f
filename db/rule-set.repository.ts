import { sql, type Kysely } from 'kysely';
import { SYSTEM_ACTOR, type AuditActor } from '../domain/audit.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { appendAuditEntry } from './audit.repository.ts';
import type { Database } from './schema.ts';

export interface StoredRuleSet {
  version: string;
  name: string | null;
  source: string;
  compiled: unknown;
  activatedAt: Date | null;
}

const columns = ['version', 'name', 'source', 'compiled', 'activated_at'] as const;
const toStored = (r: { version: string; name: string | null; source: string; compiled: unknown; activated_at: Date | null }): StoredRuleSet => ({
  version: r.version,
  name: r.name,
  source: r.source,
  compiled: r.compiled,
  activatedAt: r.activated_at,
});

/**
 * Stores a rule set (idempotent by content hash) and makes it the one active version, in one
 * transaction. Publishes take turns (a transaction-scoped advisory lock): otherwise two at once
 * would both deactivate the old version and the second to activate would break the partial
 * unique index (500). Taking turns, both succeed and the last one wins. A publish that changes the
 * active version is recorded in the audit log in the same transaction (publishing the active one
 * again changes nothing and records nothing); answers the version it replaced.
 */
export async function publishRuleSet(
  db: Kysely<Database>,
  rs: { version: string; name: string | null; source: string; compiled: unknown },
  actor: AuditActor = SYSTEM_ACTOR,
): Promise<{ previousVersion: string | null }> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('ccx.rule_sets.publish'))`.execute(trx);
    const previousVersion = (await getActiveRuleSetVersion(trx)) ?? null;
    await trx
      .insertInto('rule_sets')
      .values({ version: rs.version, name: rs.name, source: rs.source, compiled: JSON.stringify(rs.compiled) })
      .onConflict((oc) => oc.column('version').doNothing())
      .execute();
    await trx.updateTable('rule_sets').set({ active: false }).where('active', '=', true).where('version', '!=', rs.version).execute();
    await trx.updateTable('rule_sets').set({ active: true, activated_at: new Date() }).where('version', '=', rs.version).where('active', '=', false).execute();
    if (previousVersion !== rs.version) {
      await appendAuditEntry(trx, actor, { action: 'rule-set.published', subject: rs.version, details: { name: rs.name, previousVersion } });
    }
    return { previousVersion };
  });
}

/**
 * Makes a published version the active one again (roll back or forward), taking turns with
 * publishes like they do with each other, and records `rule-set.activated` in the same
 * transaction. `undefined`: no such version. Activating the active version changes nothing and
 * records nothing. Running connections and carts stay pinned where they are.
 */
export async function activateRuleSet(db: Kysely<Database>, version: string, actor: AuditActor): Promise<{ previousVersion: string | null } | undefined> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('ccx.rule_sets.publish'))`.execute(trx);
    const target = await trx.selectFrom('rule_sets').select(['version', 'name']).where('version', '=', version).executeTakeFirst();
    if (!target) return undefined;
    const previousVersion = (await getActiveRuleSetVersion(trx)) ?? null;
    if (previousVersion === version) return { previousVersion };
    await trx.updateTable('rule_sets').set({ active: false }).where('active', '=', true).execute();
    await trx.updateTable('rule_sets').set({ active: true, activated_at: new Date() }).where('version', '=', version).execute();
    await appendAuditEntry(trx, actor, { action: 'rule-set.activated', subject: version, details: { name: target.name, previousVersion } });
    return { previousVersion };
  });
}

/** A stored rule set by version (any, active or not). */
export async function getRuleSet(db: Kysely<Database>, version: string): Promise<StoredRuleSet | undefined> {
  const row = await db.selectFrom('rule_sets').select(columns).where('version', '=', version).executeTakeFirst();
  return row && toStored(row);
}

export async function getActiveRuleSet(db: Kysely<Database>): Promise<StoredRuleSet | undefined> {
  const row = await db.selectFrom('rule_sets').select(columns).where('active', '=', true).executeTakeFirst();
  return row && toStored(row);
}

/** Only the version of the active rule set: the API asks this on every request (cheap). */
export async function getActiveRuleSetVersion(db: Kysely<Database>): Promise<string | undefined> {
  const row = await db.selectFrom('rule_sets').select('version').where('active', '=', true).executeTakeFirst();
  return row?.version;
}

/** The compiled form of the active rule set (what workflows are pinned to), if one is active. */
export async function getActiveCompiledRuleSet(db: Kysely<Database>): Promise<CompiledRuleSet | undefined> {
  const row = await db.selectFrom('rule_sets').select('compiled').where('active', '=', true).executeTakeFirst();
  return row?.compiled as CompiledRuleSet | undefined; // stored by publishRuleSet from a checked CompiledRuleSet
}

/** Every published version, newest first: what the /machines page lets product owners switch to. */
export async function listRuleSetVersions(db: Kysely<Database>): Promise<Array<{ version: string; name: string | null; active: boolean; createdAt: Date }>> {
  const rows = await db.selectFrom('rule_sets').select(['version', 'name', 'active', 'created_at']).orderBy('created_at', 'desc').orderBy('version').execute();
  return rows.map((r) => ({ version: r.version, name: r.name, active: r.active, createdAt: r.created_at }));
}

/** The compiled form of one published version (a workflow's pinned one), if it exists. */
export async function getCompiledRuleSet(db: Kysely<Database>, version: string): Promise<CompiledRuleSet | undefined> {
  const row = await db.selectFrom('rule_sets').select('compiled').where('version', '=', version).executeTakeFirst();
  return row?.compiled as CompiledRuleSet | undefined; // stored by publishRuleSet from a checked CompiledRuleSet
}
