/**
 * The one place that turns failures into HTTP answers `{error: {code, message, details?}}`
 * (docs/architecture.md "HTTP API", docs/architecture.md "Errors"). Business refusals arrive as ApiError (API-side checks)
 * or as Temporal ApplicationFailure whose `type` is the code; both go through `statusByCode`.
 */
import {
  ApplicationFailure,
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { InvalidCursorError } from '../db/id-cursor.ts';
import { ErrorCode } from '../domain/errors.ts';

/**
 * Codes the API adds to the contract: ID_EXISTS (a taken company/client id on create),
 * INTERNAL (a bug), RULE_SET_INVALID (a published rule set with errors) and METHOD_NOT_ALLOWED
 * (a method the path does not declare). (Recorded as contract extensions in docs/decisions.md.)
 */
export const ApiOnlyCode = {
  ID_EXISTS: 'ID_EXISTS',
  INTERNAL: 'INTERNAL',
  RULE_SET_INVALID: 'RULE_SET_INVALID',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
} as const;
export type ApiErrorCode = ErrorCode | (typeof ApiOnlyCode)[keyof typeof ApiOnlyCode];

export const statusByCode: Record<ApiErrorCode, number> = {
  INVALID_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN_ACTOR: 403,
  NOT_FOUND: 404,
  TARGET_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  INVALID_TRANSITION: 409,
  CONNECTION_EXISTS: 409,
  PAYOUT_ALREADY_PAID: 409,
  ORDER_CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  ID_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SELF_CONNECTION: 422,
  CONTRACT_MODULE_INACTIVE: 422,
  RULE_REJECTED: 422,
  ITEM_UNAVAILABLE: 422,
  REFUND_EXCEEDS_PAYMENT: 422,
  CURRENCY_MISMATCH: 422,
  RULE_SET_INVALID: 422,
  BUSY: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

const isKnownCode = (code: string): code is ApiErrorCode => Object.hasOwn(statusByCode, code);

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusByCode[code];
  }

  toBody(): { error: { code: string; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

interface RequestIssue {
  path: readonly PropertyKey[];
  code: string;
  message: string;
  keys?: readonly string[];
}

/** 400 naming each field; takes a ZodError too, for inputs a route checks by hand. */
export function invalidRequest(location: string, error: { issues: readonly RequestIssue[] }): ApiError {
  const field = (path: readonly PropertyKey[]) => (path.length > 0 ? path.map(String).join('.') : location);
  // An unknown key is named as the field itself, so "details name the field" holds for typos too.
  const issues = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' && issue.keys
      ? issue.keys.map((key) => ({ field: field([...issue.path, key]), message: 'unknown field' }))
      : [{ field: field(issue.path), message: issue.message }],
  );
  const summary = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  return new ApiError(ErrorCode.INVALID_REQUEST, `invalid ${location}: ${summary}`, { location, issues });
}

export const outcomeUnknown = () =>
  new ApiError(ErrorCode.UNAVAILABLE, 'outcome unknown, retry with the same Idempotency-Key');

// gRPC status codes meaning "we do not know whether the call took effect" (or "not now": the
// server sheds load). Any other status — INVALID_ARGUMENT, PERMISSION_DENIED, UNIMPLEMENTED … —
// will fail the same way on every retry: that is our bug or our setup, never "retry".
const UNKNOWN_OUTCOME_GRPC = new Set([1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 14 /* UNAVAILABLE */]);

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err; e instanceof Error && chain.length < 10; e = e.cause) chain.push(e);
  return chain;
}

function fromApplicationFailure(failure: ApplicationFailure): ApiError {
  const code = failure.type ?? '';
  // The server's answer when the run closed (e.g. continued as new) while our update was in
  // flight: whether it took effect is unknown, so the caller retries with the same key.
  if (code === 'AcceptedUpdateCompletedWorkflow') return outcomeUnknown();
  const first: unknown = failure.details?.[0];
  const details = first && typeof first === 'object' ? (first as Record<string, unknown>) : undefined;
  if (isKnownCode(code)) return new ApiError(code, failure.message, details);
  // A failure type outside the table is a bug in the workflow, not a business refusal.
  return new ApiError(ApiOnlyCode.INTERNAL, 'internal error', { type: code });
}

/**
 * Maps an error from a Temporal client call; undefined when it is not one. An update aimed at a
 * run that has already closed (final state) reads as "not allowed in the current state".
 */
export function fromTemporalError(err: unknown): ApiError | undefined {
  if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowFailedError) {
    if (err.cause instanceof ApplicationFailure) return fromApplicationFailure(err.cause);
    return new ApiError(ErrorCode.INVALID_TRANSITION, 'the connection no longer accepts commands');
  }
  if (err instanceof ApplicationFailure) return fromApplicationFailure(err);
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return new ApiError(ErrorCode.CONNECTION_EXISTS, 'an open connection between these clients already exists');
  }
  if (err instanceof WorkflowNotFoundError) {
    return new ApiError(ErrorCode.INVALID_TRANSITION, 'the connection is in a final state');
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return outcomeUnknown();
  const grpc = causes(err).find(isGrpcServiceError);
  if (grpc) return UNKNOWN_OUTCOME_GRPC.has(grpc.code) ? outcomeUnknown() : new ApiError(ApiOnlyCode.INTERNAL, 'internal error');
  // A ServiceError without a gRPC status: the connection itself failed, the outcome is unknown.
  if (err instanceof ServiceError) return outcomeUnknown();
  return undefined;
}

// Postgres unreachable (network, pool timeout, server shutting down): the outcome is unknown too.
const PG_UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE']);
function isDatabaseUnavailable(err: unknown): boolean {
  return causes(err).some((e) => {
    const code = (e as { code?: unknown }).code;
    const message = (e as Error).message ?? '';
    if (typeof code === 'string' && (PG_UNAVAILABLE_ERRNO.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300')) {
      return true;
    }
    return /timeout exceeded when trying to connect|Connection terminated/i.test(message);
  });
}

function fromFastifyError(err: FastifyError): ApiError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(ErrorCode.PAYLOAD_TOO_LARGE, 'request body larger than 1 MiB');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'request bodies must be application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(ErrorCode.INVALID_REQUEST, 'request body is not valid JSON');
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    // The provider keeps the zod path only as instancePath ("/a/0/b"); no request schema has a
    // key containing "/", so splitting it back is lossless.
    const issues = err.validation.map((v) => ({
      path: v.instancePath.split('/').slice(1).filter((part) => part !== ''),
      code: v.keyword,
      message: v.message ?? 'invalid',
      keys: (v.params as { keys?: string[] }).keys,
    }));
    return invalidRequest(err.validationContext ?? 'request', { issues });
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    if (err.statusCode === 404) return new ApiError(ErrorCode.NOT_FOUND, err.message);
    return new ApiError(ErrorCode.INVALID_REQUEST, err.message);
  }
  return undefined;
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof InvalidCursorError) {
    return new ApiError(ErrorCode.INVALID_REQUEST, 'invalid cursor', { location: 'querystring', issues: [{ field: 'cursor', message: 'invalid cursor' }] });
  }
  const mapped = fromTemporalError(err) ?? (err instanceof Error ? fromFastifyError(err as FastifyError) : undefined);
  if (mapped) return mapped;
  if (isDatabaseUnavailable(err)) return outcomeUnknown();
  return new ApiError(ApiOnlyCode.INTERNAL, 'internal error');
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const apiError = toApiError(err);
  if (apiError.statusCode >= 500) request.log.error({ err }, `answered ${apiError.statusCode} ${apiError.code}`);
  void reply.code(apiError.statusCode).send(apiError.toBody());
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const apiError = new ApiError(ErrorCode.NOT_FOUND, `no route ${request.method} ${request.url.split('?')[0]}`);
  void reply.code(404).send(apiError.toBody());
}
