/**
 * Stable error codes (docs/architecture.md "Errors"). Pure data: machines and rules decide a
 * refusal with these; workflows turn it into a non-retryable ApplicationFailure whose `type` is the
 * code (workflows/errors.ts) and the API maps the code to an HTTP status in one table
 * (api/errors.ts).
 */
export const ErrorCode = {
  INVALID_REQUEST: 'INVALID_REQUEST',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN_ACTOR: 'FORBIDDEN_ACTOR',
  NOT_FOUND: 'NOT_FOUND',
  TARGET_NOT_FOUND: 'TARGET_NOT_FOUND',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  CONNECTION_EXISTS: 'CONNECTION_EXISTS',
  PAYOUT_ALREADY_PAID: 'PAYOUT_ALREADY_PAID',
  ORDER_CONFLICT: 'ORDER_CONFLICT',
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY_IN_PROGRESS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  SELF_CONNECTION: 'SELF_CONNECTION',
  CONTRACT_MODULE_INACTIVE: 'CONTRACT_MODULE_INACTIVE',
  RULE_REJECTED: 'RULE_REJECTED',
  ITEM_UNAVAILABLE: 'ITEM_UNAVAILABLE',
  REFUND_EXCEEDS_PAYMENT: 'REFUND_EXCEEDS_PAYMENT',
  CURRENCY_MISMATCH: 'CURRENCY_MISMATCH',
  UNAVAILABLE: 'UNAVAILABLE',
  BUSY: 'BUSY',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A refusal decided by pure code (machine, policy); becomes an ApplicationFailure or an HTTP error. */
export interface Refusal {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}
