/**
 * Contracting companies and their contract modules. Postgres is the authority for both; a module
 * switch is told to the affected connections by a fan-out workflow started after the commit — by
 * the API at once, or by the worker's relay for any switch whose revision is beyond `told_revision`
 * (a transactional outbox: a switch cannot be lost between the commit and Temporal).
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { ContractingCompanyTable, ContractModuleTable, Database } from './schema.ts';

export type Company = Selectable<ContractingCompanyTable>;
export type ContractModule = Selectable<ContractModuleTable>;

/** Returns the new row, or undefined when the id is taken (the caller answers 409). */
export async function insertCompany(
  db: Kysely<Database>,
  company: { id: string; name: string },
): Promise<Company | undefined> {
  return db
    .insertInto('contracting_companies')
    .values(company)
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function getCompany(db: Kysely<Database>, id: string): Promise<Company | undefined> {
  return db.selectFrom('contracting_companies').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listModules(db: Kysely<Database>, companyId: string): Promise<ContractModule[]> {
  return db
    .selectFrom('contract_modules')
    .selectAll()
    .where('contracting_company_id', '=', companyId)
    .orderBy('module')
    .execute();
}

/**
 * A transaction-scoped lock on switching `module` (any company): module switches take it
 * exclusively, a new connection's first record shared while it reads its parties' facts. So a
 * switch either commits before that read, or after the new row is committed — where its fan-out,
 * which lists rows after the switch commits, finds it. (A row lock cannot do this: a company may
 * have no module row yet.) Switches are rare operator acts; the shared side never waits on itself.
 */
export async function holdModuleSwitches(trx: Kysely<Database>, module: string, mode: 'shared' | 'exclusive' = 'shared'): Promise<void> {
  const key = sql`hashtext(${`ccx.module-switch:${module}`})`;
  await sql`select ${mode === 'shared' ? sql`pg_advisory_xact_lock_shared(${key})` : sql`pg_advisory_xact_lock(${key})`}`.execute(trx);
}

/** Switches a module on or off (upsert): repeating the same switch is harmless. Call in a transaction (the switch lock lasts until its commit). */
export async function setModule(
  db: Kysely<Database>,
  companyId: string,
  module: string,
  active: boolean,
): Promise<number> {
  await holdModuleSwitches(db, module, 'exclusive');
  const row = await db
    .insertInto('contract_modules')
    .values({ contracting_company_id: companyId, module, active, changed_at: sql`now()` })
    .onConflict((oc) =>
      oc.columns(['contracting_company_id', 'module']).doUpdateSet({
        active,
        changed_at: sql`now()`,
        revision: sql`contract_modules.revision + 1`,
      }),
    )
    .returning('revision')
    .executeTakeFirstOrThrow();
  return row.revision;
}

export interface ModuleSwitch {
  contractingCompanyId: string;
  module: string;
  active: boolean;
  revision: number;
}

/**
 * Switches of `module` whose fan-out was not started yet: the given company's, or (relay) the
 * oldest ones changed at least `minAgeMs` ago — fresher ones are being told by whoever switched.
 */
export async function listUntoldSwitches(
  db: Kysely<Database>,
  module: string,
  filter: { contractingCompanyId: string } | { minAgeMs: number; limit: number },
): Promise<ModuleSwitch[]> {
  let query = db
    .selectFrom('contract_modules')
    .select(['contracting_company_id', 'module', 'active', 'revision'])
    .where('module', '=', module)
    .whereRef('revision', '>', 'told_revision');
  if ('contractingCompanyId' in filter) query = query.where('contracting_company_id', '=', filter.contractingCompanyId);
  else query = query.where('changed_at', '<=', sql<Date>`now() - ${`${filter.minAgeMs} milliseconds`}::interval`).orderBy('changed_at').limit(filter.limit);
  const rows = await query.execute();
  return rows.map((r) => ({ contractingCompanyId: r.contracting_company_id, module: r.module, active: r.active, revision: r.revision }));
}

/** The fan-out of `revision` was started: it and every earlier switch are told. */
export async function markSwitchTold(db: Kysely<Database>, s: Pick<ModuleSwitch, 'contractingCompanyId' | 'module' | 'revision'>): Promise<void> {
  await db
    .updateTable('contract_modules')
    .set({ told_revision: sql<number>`greatest(told_revision, ${s.revision})` })
    .where('contracting_company_id', '=', s.contractingCompanyId)
    .where('module', '=', s.module)
    .execute();
}
