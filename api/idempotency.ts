/**
 * `Idempotency-Key` (docs/architecture.md "HTTP API"), as two hooks on the authenticated route groups:
 * preHandler claims the key (or answers from the record), onSend records the answer. Scoped to
 * the principal, kept 24 h. 2xx and 4xx are recorded; a 5xx releases the row so the retry runs
 * again — with the same minted id and the same Temporal update id, so it converges on one effect.
 * Secrets shown once (new API keys) are never recorded: a route names them in
 * `config.idempotencyRedact` and its replay answers them as null.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import {
  claimIdempotencyKey,
  recordIdempotentResponse,
  releaseIdempotencyKey,
} from '../db/idempotency.repository.ts';
import type { Database } from '../db/schema.ts';
import { ErrorCode } from '../domain/errors.ts';
import { canonicalJson } from './canonical-json.ts';
import { ApiError } from './errors.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Longer than any request may take (Temporal deadline ~4 s): only a crashed process leaves one. */
export const IDEMPOTENCY_LEASE_MS = 60_000;

export interface IdempotencyContext {
  principal: string;
  key: string;
  /** Minted by the first attempt; connection ids and fan-out ids come from here. */
  mintedId: string;
  /** The Temporal update id of this request (see `updateIdFor`). */
  updateId: string;
  recording: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: IdempotencyContext | null;
  }
  interface FastifyContextConfig {
    /** Top-level response fields recorded as null: keys are shown once and stored only hashed. */
    idempotencyRedact?: readonly string[];
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/; // visible ASCII, like a header token

const sha256hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Temporal update id of a recorded request: its minted id (new with every record, so a key reused
 * after its record expired is a new request) and its hash. A retry addresses the same update —
 * in the same run (Temporal de-duplicates) or in a later one (workflows/answered-updates.ts).
 */
export const updateIdFor = (mintedId: string, requestHashValue: string): string => sha256hex(`${mintedId}\n${requestHashValue}`);

/** Method, path with query, and body: the same key on another route counts as another body. */
export const requestHash = (method: string, url: string, body: unknown): string =>
  sha256hex(`${method} ${url}\n${canonicalJson(body)}`);

/** The id this request mints (stable across retries when it carries an Idempotency-Key). */
export const mintedIdOf = (request: FastifyRequest): string => request.idempotency?.mintedId ?? uuidv7();
export const updateIdOf = (request: FastifyRequest): string => request.idempotency?.updateId ?? randomUUID();

export function registerIdempotency(app: FastifyInstance, db: Kysely<Database>): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers['idempotency-key'];
    if (!STATE_CHANGING.has(request.method) || header === undefined) return;
    if (typeof header !== 'string' || !KEY_FORMAT.test(header)) {
      throw new ApiError(ErrorCode.INVALID_REQUEST, 'Idempotency-Key must be 1–255 visible ASCII characters', {
        location: 'headers',
        issues: [{ field: 'Idempotency-Key', message: 'invalid format' }],
      });
    }
    const principal = request.principal.id;
    const requestHashValue = requestHash(request.method, request.url, request.body);
    const claim = await claimIdempotencyKey(
      db,
      { principal, key: header, requestHash: requestHashValue, mintedId: uuidv7() },
      { ttlMs: IDEMPOTENCY_TTL_MS, leaseMs: IDEMPOTENCY_LEASE_MS },
    );
    const { record } = claim;
    if (claim.claimed) {
      const mintedId = record.minted_id ?? uuidv7();
      request.idempotency = { principal, key: header, mintedId, updateId: updateIdFor(mintedId, requestHashValue), recording: true };
      return;
    }
    if (record.request_hash !== requestHashValue) {
      throw new ApiError(ErrorCode.IDEMPOTENCY_CONFLICT, 'this Idempotency-Key was used with another request');
    }
    if (record.state !== 'done' || record.status_code === null) {
      throw new ApiError(ErrorCode.IDEMPOTENCY_IN_PROGRESS, 'a request with this Idempotency-Key is still running');
    }
    reply.code(record.status_code).header('idempotent-replayed', 'true');
    return reply.send(record.response_body ?? undefined);
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const context = request.idempotency;
    if (!context?.recording) return payload;
    context.recording = false;
    try {
      if (reply.statusCode >= 500) {
        // The database may be the part that is down: keep trying in the background for a while,
        // or the caller's retry would meet IDEMPOTENCY_IN_PROGRESS until the lease runs out.
        const release = () => releaseIdempotencyKey(db, context.principal, context.key, reply.statusCode);
        await release().catch((err: unknown) => {
          request.log.warn({ err }, 'could not release the idempotency key; retrying in the background');
          retryInBackground(release, IDEMPOTENCY_LEASE_MS);
        });
      } else {
        const body = redact(parsePayload(payload), request.routeOptions.config.idempotencyRedact ?? []);
        await recordIdempotentResponse(db, context.principal, context.key, reply.statusCode, body);
      }
    } catch (err) {
      // The answer still goes out; the row stays in progress until its lease runs out.
      request.log.error({ err }, 'could not record the idempotent response');
    }
    return payload;
  });
}

/** Retries `fn` with backoff (250 ms … 5 s) until it succeeds or `forMs` has passed; never throws. */
function retryInBackground(fn: () => Promise<unknown>, forMs: number): void {
  const until = Date.now() + forMs;
  const attempt = (wait: number) => {
    const timer = setTimeout(() => {
      fn().catch(() => {
        if (Date.now() + wait < until) attempt(Math.min(wait * 2, 5000));
      });
    }, wait);
    timer.unref();
  };
  attempt(250);
}

function parsePayload(payload: unknown): unknown {
  if (typeof payload !== 'string' || payload.length === 0) return null;
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

/** The recorded copy only: the answer going out now still carries the fields. */
function redact(body: unknown, fields: readonly string[]): unknown {
  if (fields.length === 0 || !body || typeof body !== 'object' || Array.isArray(body)) return body;
  const copy = { ...(body as Record<string, unknown>) };
  for (const field of fields) if (field in copy) copy[field] = null;
  return copy;
}
