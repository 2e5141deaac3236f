/**
 * Zod schemas of the HTTP contract (docs/architecture.md "HTTP API"): request validation and the OpenAPI document come
 * from these. Request bodies are strict: an unknown field is a typo the caller wants to hear about.
 */
import { z } from 'zod';
import { CONNECTION_STATUSES } from '../domain/connection.ts';
import { ErrorCode } from '../domain/errors.ts';
import { ApiError } from './errors.ts';

/** Contracting company and client ids: 20 characters [A-Z0-9] (docs/architecture.md "HTTP API"). */
export const EntityId = z.string().regex(/^[A-Z0-9]{20}$/, 'must be 20 characters A-Z or 0-9');
// JavaScript's whitespace (what String.prototype.trim removes), spelled out so that the pattern
// means the same to every JSON Schema validator (Python's \s, for one, leaves out U+FEFF).
const WHITESPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/**
 * Free text that is trimmed: at most `max` characters as sent, at least one of them not
 * whitespace; leading and trailing whitespace is removed before it is stored. The document says
 * all of it (maxLength, a pattern, the description), so a valid-looking name of spaces is no surprise.
 */
export const TrimmedText = (max: number) =>
  z
    .string()
    .max(max)
    .regex(new RegExp(`[^${WHITESPACE}]`), 'must not be blank')
    .trim()
    .describe('trimmed: leading and trailing whitespace is removed');
// zod's ISO 8601 date-time (leap years included) with two limits of PostgreSQL — no year 0000
// (valid ISO, but there is no year 0) and offsets within ±15:59 — in one pattern, spelled with
// [0-9] so that every regex dialect reads it alike (Python's \d also matches other digits).
const DATE = '(?:(?:[0-9]{2}[2468][048]|[0-9]{2}[13579][26]|[0-9]{2}0[48]|[02468][048]00|[13579][26]00)-02-29|[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8])))';
const TIME = '(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?';
const OFFSET = '(?:Z|[+-](?:0[0-9]|1[0-5]):[0-5][0-9])';
/** An instant: ISO 8601 with an offset, as far as PostgreSQL takes it; anything else is 400, not a 500. */
export const IsoInstant = z
  .string()
  .regex(new RegExp(`^(?!0000)${DATE}T${TIME}${OFFSET}$`), 'must be an ISO 8601 instant with an offset (years 0001–9999, offsets within ±15:59)')
  .describe('ISO 8601 with an offset, e.g. 2026-06-01T00:00:00Z');
export const ModuleName = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be an upper-case module name like CROSS_CLIENT_CONNECTIONS');
export const Language = z.enum(['de', 'en']);
export const ConnectionStatus = z.enum(CONNECTION_STATUSES);

/** 204: typed as `reply.send()` with no payload, and documented without a body. */
export const NoContent = z.undefined().describe('No content');

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});
/** A refusal only some routes give, described by its codes (api/openapi.ts adds the generic ones). */
export const refusal = (codes: string) => ErrorBody.describe(codes);

/**
 * A request the document's schema allows but a rule across its fields refuses (an offer twice in
 * one purchase, a cost centre for a client the offer is not shared with): 422 RULE_REJECTED
 * naming the rule and the field. 400 is kept for what the document itself rules out.
 */
export const fieldRuleRejected = (rule: string, field: string, message: string): ApiError =>
  new ApiError(ErrorCode.RULE_REJECTED, `${field}: ${message}`, { rule, field });

/** Each offer at most once among the items of a purchase or a money movement (rule `offer-once`). */
export function checkOfferOnce(items: readonly { offerId: string }[]): ApiError | undefined {
  const n = items.findIndex((item, i) => items.findIndex((other) => other.offerId === item.offerId) !== i);
  return n < 0 ? undefined : fieldRuleRejected('offer-once', `items.${n}.offerId`, `offer ${items[n]!.offerId} appears more than once`);
}

export const Company = z.object({ id: EntityId, name: z.string(), createdAt: z.string() });
export const ContractModule = z.object({ module: ModuleName, active: z.boolean(), changedAt: z.string() });
export const Client = z.object({
  id: EntityId,
  contractingCompanyId: EntityId,
  name: z.string(),
  email: z.string(),
  language: Language,
  createdAt: z.string(),
});
export const CompanyDetail = Company.extend({ modules: z.array(ContractModule), clients: z.array(Client) });

export const CreateCompanyBody = z.strictObject({ name: TrimmedText(200), id: EntityId.optional() });
export const CreateClientBody = z.strictObject({
  contractingCompanyId: EntityId,
  name: TrimmedText(200),
  email: z.email(),
  language: Language,
  id: EntityId.optional(),
});
/** Shown once: a replay with the same Idempotency-Key answers null (only the hash is kept). */
export const ShownOnceKey = z.string().nullable().describe('the new API key; null on an Idempotency-Key replay (shown once)');
export const ApiKeyCreated = z.object({ apiKey: ShownOnceKey, keyId: z.string() });

export const Connection = z.object({
  id: z.string(),
  sourceClientId: z.string(),
  targetClientId: z.string(),
  status: ConnectionStatus,
  offerAccess: z.boolean(),
  blockedBy: z.string().nullable(),
  expiresAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
  ruleSetVersion: z.string().nullable(),
  workflowId: z.string(),
  callback: z.object({ url: z.string() }).optional(),
});
export const HistoryEntry = z.object({
  event: z.string(),
  actor: z.string().nullable(),
  at: z.string(),
  from: z.string().nullable(),
  to: z.string(),
});
export const ConnectionWithHistory = Connection.extend({ history: z.array(HistoryEntry) });
export const ConnectionList = z.object({ items: z.array(Connection), nextCursor: z.string().nullable() });

export const CreateConnectionBody = z.strictObject({
  // Any string: an id that does not exist is a clear 404 TARGET_NOT_FOUND, not a schema error.
  targetClientId: z.string().min(1).max(64),
  offerAccess: z.boolean(),
  callback: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }).max(2048),
      // Signs callbacks (HMAC): short secrets would be guessable.
      secret: z.string().min(16).max(1024),
    })
    .optional(),
});
export const PatchConnectionBody = z.strictObject({ offerAccess: z.boolean() });
export const ListConnectionsQuery = z.strictObject({
  role: z.enum(['source', 'target']).optional(),
  status: ConnectionStatus.optional(),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
/**
 * A path id: ids the product mints are UUIDs, but any other string of up to 100 characters is
 * simply not found (404), so no id leaks through a different answer.
 */
export const PathId = z.string().min(1).max(100);
export const IdParam = z.object({ id: PathId });
