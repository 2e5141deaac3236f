import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { CROSS_CLIENT_MODULE } from '../../domain/connection.ts';
import { newId } from './database.ts';

export interface TestClient {
  id: string;
  name: string;
  email: string;
  language: 'de' | 'en';
  contractingCompanyId: string;
}

/** A contracting company (module on unless told otherwise) with the given clients. */
export async function createCompany(
  db: Kysely<Database>,
  options: { moduleActive?: boolean; clients?: Array<{ name: string; language: 'de' | 'en' }> } = {},
): Promise<{ id: string; clients: TestClient[] }> {
  const id = newId();
  await db.insertInto('contracting_companies').values({ id, name: `Company ${id}` }).execute();
  await setModule(db, id, options.moduleActive ?? true);
  const clients: TestClient[] = [];
  for (const c of options.clients ?? []) {
    const client = { id: newId(), name: c.name, email: `${c.name.toLowerCase()}@${id.toLowerCase()}.test`, language: c.language, contractingCompanyId: id };
    await db
      .insertInto('clients')
      .values({ id: client.id, contracting_company_id: id, name: client.name, email: client.email, language: client.language })
      .execute();
    clients.push(client);
  }
  return { id, clients };
}

export async function setModule(db: Kysely<Database>, companyId: string, active: boolean): Promise<void> {
  await db
    .insertInto('contract_modules')
    .values({ contracting_company_id: companyId, module: CROSS_CLIENT_MODULE, active, changed_at: new Date() })
    .onConflict((oc) =>
      oc.columns(['contracting_company_id', 'module']).doUpdateSet({ active, changed_at: new Date(), revision: sql`contract_modules.revision + 1` }),
    )
    .execute();
}
