/**
 * API keys (docs/architecture.md "HTTP API"). A key is `ccx_<prefix>_<secret>`: the 12-character
 * prefix is stored in clear for the lookup, the whole key only as SHA-256 — keys are random
 * (256-bit secret), not passwords, so a fast hash compared in constant time is enough
 * (a slow hash per request costs too much on 2 cores).
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { findApiKeyByPrefix, insertApiKey, lockApiKey, revokeApiKey } from '../db/api-key.repository.ts';
import { appendAuditEntry } from '../db/audit.repository.ts';
import type { Database } from '../db/schema.ts';
import { SYSTEM_ACTOR, type AuditActor } from '../domain/audit.ts';
import { ErrorCode } from '../domain/errors.ts';
import { ApiError } from './errors.ts';
import type { Audience } from './routing.ts';

/** Who a key acts as: platform staff, one client, or the read-only viewer (product owners, support). */
export type Principal =
  | { kind: 'operator'; id: 'operator' }
  | { kind: 'viewer'; id: 'viewer' }
  | { kind: 'client'; id: `client:${string}`; clientId: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requirePrincipal` on every authenticated route. */
    principal: Principal;
    /** The id of the key the request was made with (who did it, for the audit log). */
    apiKeyId: string;
  }
}

export const operatorPrincipal: Principal = { kind: 'operator', id: 'operator' };
export const viewerPrincipal: Principal = { kind: 'viewer', id: 'viewer' };
export const clientPrincipal = (clientId: string): Principal => ({ kind: 'client', id: `client:${clientId}`, clientId });

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const KEY_FORMAT = /^ccx_([a-z0-9]{12})_(.+)$/;

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * The lookup prefix of a presented key. Keys of another shape (a hand-picked CCX_OPERATOR_KEY)
 * get a prefix derived from their hash, so every key can be found with one indexed lookup.
 */
export function lookupPrefix(key: string): string {
  return KEY_FORMAT.exec(key)?.[1] ?? `h:${sha256(key).toString('hex').slice(0, 16)}`;
}

export function generateApiKey(): string {
  let prefix = '';
  for (let i = 0; i < 12; i++) prefix += PREFIX_ALPHABET[randomInt(PREFIX_ALPHABET.length)];
  return `ccx_${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** Runs `work` in the caller's transaction, or in a new one. */
const inTransaction = <T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> =>
  db.isTransaction ? work(db) : db.transaction().execute(work);

/**
 * Stores a new key for the principal and returns it in plaintext — the only time it is seen.
 * Recorded in the audit log as created by `actor` (the stack itself unless told), in the same
 * transaction (the caller's, when `db` is one).
 */
export async function createApiKey(db: Kysely<Database>, principal: Principal, actor: AuditActor = SYSTEM_ACTOR): Promise<{ apiKey: string; keyId: string }> {
  return inTransaction(db, async (trx) => {
    for (;;) {
      const apiKey = generateApiKey();
      const keyId = uuidv7();
      const stored = await insertApiKey(trx, {
        id: keyId,
        prefix: lookupPrefix(apiKey),
        hash: sha256(apiKey).toString('hex'),
        principal: principal.id,
        clientId: principal.kind === 'client' ? principal.clientId : null,
      });
      if (stored) {
        await appendAuditEntry(trx, actor, { action: 'api-key.created', subject: keyId, details: { principal: principal.id } });
        return { apiKey, keyId };
      }
      // else: a prefix collision (1 in 36^12): draw again
    }
  });
}

/** Revokes a key at once; false for an unknown id. Recorded once: revoking again changes nothing. */
export async function revokeKey(db: Kysely<Database>, keyId: string, actor: AuditActor): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const key = await lockApiKey(trx, keyId);
    if (!key) return false;
    if (key.revoked_at === null) {
      await revokeApiKey(trx, keyId);
      await appendAuditEntry(trx, actor, { action: 'api-key.revoked', subject: keyId, details: { principal: key.principal } });
    }
    return true;
  });
}

/**
 * Bootstrap: makes CCX_OPERATOR_KEY a valid operator key. Idempotent across restarts and
 * concurrent processes. A key an operator has revoked stays revoked (we report it, not revive it).
 */
export async function ensureOperatorKey(db: Kysely<Database>, key: string): Promise<{ keyId: string; created: boolean; revoked: boolean }> {
  if (key.length === 0) throw new Error('CCX_OPERATOR_KEY is empty');
  const prefix = lookupPrefix(key);
  const hash = sha256(key).toString('hex');
  const keyId = uuidv7();
  const created = await inTransaction(db, async (trx) => {
    if (!(await insertApiKey(trx, { id: keyId, prefix, hash, principal: operatorPrincipal.id, clientId: null }))) return false;
    await appendAuditEntry(trx, SYSTEM_ACTOR, { action: 'api-key.created', subject: keyId, details: { principal: operatorPrincipal.id, from: 'CCX_OPERATOR_KEY' } });
    return true;
  });
  if (created) return { keyId, created: true, revoked: false };
  const row = await findApiKeyByPrefix(db, prefix);
  if (!row || row.hash !== hash || row.principal !== operatorPrincipal.id) {
    throw new Error('CCX_OPERATOR_KEY clashes with a stored key of the same prefix; choose another key');
  }
  return { keyId: row.id, created: false, revoked: row.revoked_at !== null };
}

const unauthenticated = (message: string) => new ApiError(ErrorCode.UNAUTHENTICATED, message);

/** The principal and key id of `Authorization: Bearer <key>`; 401 for a missing, unknown or revoked key. */
export async function authenticate(db: Kysely<Database>, authorization: string | undefined): Promise<{ principal: Principal; keyId: string }> {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  if (!match?.[1]) throw unauthenticated('missing API key: send Authorization: Bearer <key>');
  const key = match[1];
  const row = await findApiKeyByPrefix(db, lookupPrefix(key));
  const stored = row ? Buffer.from(row.hash, 'hex') : undefined;
  const presented = sha256(key);
  if (!row || !stored || stored.length !== presented.length || !timingSafeEqual(stored, presented)) {
    throw unauthenticated('unknown API key');
  }
  if (row.revoked_at !== null) throw unauthenticated('API key revoked');
  const principal = principalOf(row);
  if (!principal) throw unauthenticated('API key has no valid principal');
  return { principal, keyId: row.id };
}

function principalOf(row: { principal: string; client_id: string | null }): Principal | undefined {
  if (row.principal === operatorPrincipal.id) return operatorPrincipal;
  if (row.principal === viewerPrincipal.id) return viewerPrincipal;
  if (row.client_id && row.principal === `client:${row.client_id}`) return clientPrincipal(row.client_id);
  return undefined;
}

/**
 * Makes every route of a group (an encapsulated plugin context) authenticated for one audience:
 * declared on each route (`config.audience`: the document and the authorization tests read it)
 * and enforced by an onRequest hook. Call before the group's routes.
 */
export function authenticateRoutes(app: FastifyInstance, db: Kysely<Database>, audience: Exclude<Audience, 'public'>): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, audience };
  });
  app.addHook('onRequest', requirePrincipal(db, audience));
}

/** Whether a principal may call a route of an audience: the viewer reads (GET) operator routes and changes nothing. */
export function admits(audience: Exclude<Audience, 'public'>, principal: Principal, method: string): boolean {
  if (audience === 'client') return principal.kind === 'client';
  if (audience === 'reader') return method === 'GET';
  return principal.kind === 'operator' || (principal.kind === 'viewer' && method === 'GET');
}

/**
 * onRequest hook for a group of routes: authenticates and insists on the audience. A client key
 * on operator routes, an operator or viewer key on client routes (they act as no client) and a
 * viewer key on anything but a read → 403.
 */
export function requirePrincipal(db: Kysely<Database>, audience: Exclude<Audience, 'public'>) {
  return async (request: FastifyRequest): Promise<void> => {
    const { principal, keyId } = await authenticate(db, request.headers.authorization);
    if (!admits(audience, principal, request.method)) {
      throw new ApiError(
        ErrorCode.FORBIDDEN_ACTOR,
        principal.kind === 'viewer' && audience === 'operator'
          ? 'a viewer key reads and changes nothing'
          : audience === 'operator'
            ? 'this route needs an operator key'
            : audience === 'reader'
              ? 'this route only reads'
            : 'this route needs a client key: the acting client comes from the key',
      );
    }
    request.principal = principal;
    request.apiKeyId = keyId;
  };
}

/** Who makes this request, for the audit log: its principal and key. */
export const actorOf = (request: FastifyRequest): AuditActor => ({ principal: request.principal.id, keyId: request.apiKeyId || null });

/** The acting client of a client route (its group's hook admits client principals only). */
export function callerOf(request: FastifyRequest): string {
  if (request.principal.kind !== 'client') throw new Error('client routes run only for client principals');
  return request.principal.clientId;
}
