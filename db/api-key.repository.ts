/**
 * API keys, stored as SHA-256 of the whole key plus a lookup prefix. Hashing and comparing is the
 * caller's (api/auth.ts); this file is SQL only.
 */
import type { Kysely } from 'kysely';
import type { ApiKey, Database } from './schema.ts';

export interface NewApiKey {
  id: string;
  prefix: string;
  hash: string;
  principal: string;
  clientId: string | null;
}

/** False when the prefix is already stored (the caller decides whether that is fine). */
export async function insertApiKey(db: Kysely<Database>, key: NewApiKey): Promise<boolean> {
  const row = await db
    .insertInto('api_keys')
    .values({ id: key.id, prefix: key.prefix, hash: key.hash, principal: key.principal, client_id: key.clientId })
    .onConflict((oc) => oc.column('prefix').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function findApiKeyByPrefix(db: Kysely<Database>, prefix: string): Promise<ApiKey | undefined> {
  return db.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst();
}

/** The key row, locked until the transaction ends (revoking and recording it take turns). */
export async function lockApiKey(db: Kysely<Database>, id: string): Promise<ApiKey | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * Revokes at once (the next request with the key is refused). Revoking twice keeps the first
 * time. Returns false when no key has this id.
 */
export async function revokeApiKey(db: Kysely<Database>, id: string): Promise<boolean> {
  const row = await db
    .updateTable('api_keys')
    .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.fn<Date>('now')) }))
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether any operator key is still valid (boot creates one only when none is). */
export async function hasActiveOperatorKey(db: Kysely<Database>): Promise<boolean> {
  const row = await db
    .selectFrom('api_keys')
    .select('id')
    .where('principal', '=', 'operator')
    .where('revoked_at', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
