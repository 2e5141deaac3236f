import type { ConnectionWorkflowInput } from './messages.ts';

const MAX_TTL_MS = 366 * 24 * 60 * 60 * 1000;

/**
 * What is wrong with an input from a caller going to Temporal directly (the API's are always
 * right), or null. Checked before anything else: a bad value must fail the run with a clear
 * error, never throw inside the workflow task (which Temporal would retry forever).
 */
export function inputProblem(input: ConnectionWorkflowInput): string | null {
  const ids = [input?.connectionId, input?.sourceClientId, input?.targetClientId];
  if (!ids.every((id) => typeof id === 'string' && id.length > 0)) return 'connectionId, sourceClientId and targetClientId must be non-empty strings';
  if (typeof input.offerAccess !== 'boolean') return 'offerAccess must be true or false';
  const ttl = input.invitationTtlMs;
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 1 && ttl <= MAX_TTL_MS)) return `invitationTtlMs must be an integer from 1 to ${MAX_TTL_MS}`;
  return null;
}
