/**
 * Refusals cross Temporal as a non-retryable ApplicationFailure whose `type` is the error code
 * (domain/errors.ts); the API maps the code to an HTTP status in one table (api/errors.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Refusal } from '../domain/errors.ts';

export function refusalFailure(refusal: Refusal): ApplicationFailure {
  return ApplicationFailure.create({
    type: refusal.code,
    message: refusal.message,
    nonRetryable: true,
    details: refusal.details ? [refusal.details] : undefined,
  });
}
