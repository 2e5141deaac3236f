/** Clients (Mandanten) and the facts about them that the invitation policy needs. */
import type { Kysely } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
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

/**
 * A sale's parties (as getPartiesFacts) and its offers' rows, in one statement: the purchase's
 * facts are read on every sale, and a statement less is a round trip less on a busy process.
 */
export async function getSaleFacts(
  db: Kysely<Database>,
  clientIds: readonly string[],
  offerIds: readonly string[],
  module: string,
): Promise<{ parties: Map<string, PartyFacts>; offers: SaleOfferRow[] }> {
  const ids = [...new Set(clientIds)];
  const offers = [...new Set(offerIds)];
  if (ids.length === 0 || offers.length === 0) {
    const rows = offers.length === 0 ? [] : await offersQuery(db, offers).execute();
    return { parties: await getPartiesFacts(db, ids, module), offers: rows };
  }
  const row = await db
    .selectNoFrom([jsonArrayFrom(partiesQuery(db, ids, module)).as('parties'), jsonArrayFrom(offersQuery(db, offers)).as('offers')])
    .executeTakeFirstOrThrow();
  return { parties: partiesMap(row.parties), offers: row.offers };
}

/** An offer as a sale reads it (`price_minor` a string from a row, a number through JSON). */
export interface SaleOfferRow {
  id: string;
  title: string;
  price_minor: string | number;
  currency: string;
  owner_client_id: string;
  products: unknown;
}

const offersQuery = (db: Kysely<Database>, offerIds: readonly string[]) =>
  db.selectFrom('offers').select(['id', 'title', 'price_minor', 'currency', 'owner_client_id', 'products']).where('id', 'in', offerIds);

const partiesQuery = (db: Kysely<Database>, ids: readonly string[], module: string) =>
  db
    .selectFrom('clients as c')
    .leftJoin('contract_modules as m', (join) => join.onRef('m.contracting_company_id', '=', 'c.contracting_company_id').on('m.module', '=', module))
    .select(['c.id', 'c.name', 'c.email', 'c.language', 'c.contracting_company_id', 'm.active', 'm.revision'])
    .where('c.id', 'in', ids);

type PartyRow = { id: string; name: string; email: string; language: Client['language']; contracting_company_id: string; active: boolean | null; revision: number | null };

function partiesMap(rows: readonly PartyRow[]): Map<string, PartyFacts> {
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
