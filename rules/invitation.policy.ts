/**
 * Who may invite whom — applied by the API (pre-check, docs/architecture.md "Path of a command") and by the
 * connection workflow (re-check for callers going to Temporal directly), with the same pinned
 * rule set, so both reach the same verdict. Pure. An unknown target and a connection to oneself
 * are fixed domain facts checked here; everything else is policy in the rule set's
 * `connection.invite` guards.
 */
import type { PartyFacts } from '../domain/connection.ts';
import { ErrorCode, type Refusal } from '../domain/errors.ts';
import { invitationFacts } from './connection-facts.ts';
import type { RulesEvaluator } from './evaluator.ts';

export interface InvitationCheck {
  connectionId: string;
  source: PartyFacts;
  target: PartyFacts | null;
  offerAccess: boolean;
  hasCallback: boolean;
}

export function checkInvitation(check: InvitationCheck, rules: RulesEvaluator): Refusal | null {
  const { source, target } = check;
  if (target === null) {
    return { code: ErrorCode.TARGET_NOT_FOUND, message: 'the target client does not exist' };
  }
  if (source.clientId === target.clientId) {
    return { code: ErrorCode.SELF_CONNECTION, message: 'a client cannot connect to itself' };
  }
  const verdict = rules.checkGuards('connection.invite', invitationFacts({ ...check, target }));
  return verdict.allowed ? null : { code: verdict.code, message: verdict.message, details: { rule: verdict.rule } };
}
