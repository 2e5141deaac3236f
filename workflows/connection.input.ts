import type { PartyFacts } from '../domain/connection.ts';
import type { ConnectionWorkflowInput } from './messages.ts';
import { ruleSetInputProblem } from './rule-set-input.ts';

const MAX_TTL_MS = 366 * 24 * 60 * 60 * 1000;
/**
 * Bounds of `historyEventLimit` (continue-as-new after that many events; tests lower it). Below
 * the minimum a fresh run would continue as new before doing anything, for ever; above the maximum
 * Temporal's own history limit would end the run first.
 */
export const HISTORY_EVENT_LIMIT = { min: 30, max: 40_000 } as const;

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
  const limit = historyLimitProblem(input.historyEventLimit);
  if (limit) return limit;
  if (input.callbackUrl !== undefined && input.callbackUrl !== null && typeof input.callbackUrl !== 'string') return 'callbackUrl must be a string or null';
  const ruleSet = ruleSetInputProblem(input);
  if (ruleSet) return ruleSet;
  if (input.facts !== undefined) {
    const facts = input.facts as unknown as Record<string, unknown> | null;
    if (!facts || typeof facts !== 'object') return 'facts must be {source, target}';
    const source = partyFactsProblem(facts.source, 'facts.source', input.sourceClientId);
    if (source) return source;
    if (facts.target !== null) {
      const target = partyFactsProblem(facts.target, 'facts.target', input.targetClientId);
      if (target) return target;
    }
  }
  return null;
}

export function historyLimitProblem(limit: unknown): string | null {
  if (limit === undefined) return null;
  const { min, max } = HISTORY_EVENT_LIMIT;
  return Number.isInteger(limit) && (limit as number) >= min && (limit as number) <= max ? null : `historyEventLimit must be an integer from ${min} to ${max}`;
}

/** A party's facts as the API loads them (db/client.repository.ts getPartyFacts). */
function partyFactsProblem(value: unknown, field: string, clientId: string): string | null {
  const p = value as Partial<Record<keyof PartyFacts, unknown>> | null;
  const shape = `${field} must be {clientId, name, email, language: "de"|"en", contractingCompanyId, moduleActive}`;
  if (!p || typeof p !== 'object') return shape;
  const strings = [p.clientId, p.name, p.email, p.contractingCompanyId];
  if (!strings.every((s) => typeof s === 'string') || (p.language !== 'de' && p.language !== 'en') || typeof p.moduleActive !== 'boolean') return shape;
  if (p.moduleRevision !== undefined && !Number.isInteger(p.moduleRevision)) return `${field}.moduleRevision must be an integer`;
  if (p.clientId !== clientId) return `${field}.clientId must be ${clientId}`;
  return null;
}
