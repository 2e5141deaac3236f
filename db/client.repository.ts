/** Clients (Mandanten) and the facts about them that the invitation policy needs. */
import type { Kysely } from 'kysely';
import type { PartyFacts } from '../domain/connection.ts';
import type { Client, Database, NewClient } from './schema.ts';

/** Returns the new row, or undefined when the id is taken (the caller answers 409). */
export async function insertClient(db: Kysely<Database>, client: NewClient): Promise<Client | undefined> {
  return db
    .insertInto('clients')
    .values(client)
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function getClient(db: Kysely<Database>, id: string): Promise<Client | undefined> {
  return db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listClientsOfCompany(db: Kysely<Database>, companyId: string): Promise<Client[]> {
  return db
    .selectFrom('clients')
    .selectAll()
    .where('contracting_company_id', '=', companyId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/**
 * A client with whether `module` is active for its contracting company — the PartyFacts the
 * connection workflow keeps. Undefined when the client does not exist. A missing module row means
 * "never switched on", i.e. inactive.
 */
export async function getPartyFacts(
  db: Kysely<Database>,
  clientId: string,
  module: string,
): Promise<PartyFacts | undefined> {
  return (await getPartiesFacts(db, [clientId], module)).get(clientId);
}

/** getPartyFacts of several clients in one statement; a client that does not exist is absent from the map. */
export async function getPartiesFacts(db: Kysely<Database>, clientIds: readonly string[], module: string): Promise<Map<string, PartyFacts>> {
  const ids = [...new Set(clientIds)];
  if (ids.length === 0) return new Map();
  return partiesMap(await partiesQuery(db, ids, module).execute());
}

/** Clients with their `module` facts, for the caller to narrow (partiesMap turns the rows into PartyFacts). */
export const partiesSelect = (db: Kysely<Database>, module: string) =>
  db
    .selectFrom('clients as c')
    .leftJoin('contract_modules as m', (join) => join.onRef('m.contracting_company_id', '=', 'c.contracting_company_id').on('m.module', '=', module))
    .select(['c.id', 'c.name', 'c.email', 'c.language', 'c.contracting_company_id', 'm.active', 'm.revision']);

export const partiesQuery = (db: Kysely<Database>, ids: readonly string[], module: string) => partiesSelect(db, module).where('c.id', 'in', ids);

type PartyRow = { id: string; name: string; email: string; language: Client['language']; contracting_company_id: string; active: boolean | null; revision: number | null };

export function partiesMap(rows: readonly PartyRow[]): Map<string, PartyFacts> {
  return new Map(
    rows.map((row) => [
      row.id,
      {
        clientId: row.id,
        name: row.name,
        email: row.email,
        language: row.language,
        contractingCompanyId: row.contracting_company_id,
        moduleActive: row.active === true,
        moduleRevision: row.revision ?? 0,
      },
    ]),
  );
}
