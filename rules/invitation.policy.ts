/**
 * Who may invite whom — the policy both the API (pre-check, design.md decision 6) and the
 * connection workflow (re-check for callers going to Temporal directly) apply. Pure.
 * Issue 3 moves the policy parts (modules, callback) into the rule set; self-connection and an
 * unknown target are fixed domain facts and stay here / in the machine.
 */
import type { ConnectionFacts } from '../workflows/messages.ts';
import { ErrorCode, type Refusal } from '../workflows/errors.ts';

export const CROSS_CLIENT_MODULE = 'CROSS_CLIENT_CONNECTIONS';

export interface InvitationFacts extends ConnectionFacts {
  hasCallback: boolean;
}

export function checkInvitation({ source, target, hasCallback }: InvitationFacts): Refusal | null {
  if (target === null) {
    return { code: ErrorCode.TARGET_NOT_FOUND, message: 'the target client does not exist' };
  }
  if (source.clientId === target.clientId) {
    return { code: ErrorCode.SELF_CONNECTION, message: 'a client cannot connect to itself' };
  }
  if (!source.moduleActive) {
    return {
      code: ErrorCode.CONTRACT_MODULE_INACTIVE,
      message: `the contract module ${CROSS_CLIENT_MODULE} is not active for contracting company ${source.contractingCompanyId}`,
    };
  }
  if (source.contractingCompanyId !== target.contractingCompanyId) {
    if (!target.moduleActive) {
      return {
        code: ErrorCode.CONTRACT_MODULE_INACTIVE,
        message: `the contract module ${CROSS_CLIENT_MODULE} is not active for the target's contracting company`,
      };
    }
    if (!hasCallback) {
      return {
        code: ErrorCode.RULE_REJECTED,
        message: 'a connection to a client of another contracting company needs a callback {url, secret}',
        details: { rule: 'callback-required' },
      };
    }
  }
  return null;
}
