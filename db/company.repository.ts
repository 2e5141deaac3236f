/**
 * Contracting companies and their contract modules. Postgres is the authority for both; a module
 * switch is told to the affected connections by a fan-out workflow the API starts afterwards.
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

/** Switches a module on or off (upsert): repeating the same switch is harmless. */
export async function setModule(
  db: Kysely<Database>,
  companyId: string,
  module: string,
  active: boolean,
): Promise<number> {
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
