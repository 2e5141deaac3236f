/**
 * Building rule facts from what the connection workflow (and the API's pre-check) already hold:
 * `PartyFacts` loaded at start and refreshed by signal, and the `ConnectionView`. Pure, so the
 * API and the workflow build identical facts and reach identical verdicts (docs/architecture.md "Path of a command").
 */
import type { ClientId, ConnectionView, PartyFacts } from '../domain/connection.ts';
import type { ClientFacts, ConnectionRuleFacts, GuardFacts } from './facts.ts';

export function clientFacts(party: PartyFacts): ClientFacts {
  return {
    id: party.clientId,
    name: party.name,
    language: party.language,
    company: { id: party.contractingCompanyId, moduleActive: party.moduleActive },
  };
}

export interface InvitationInput {
  connectionId: string;
  source: PartyFacts;
  /** The target must exist: an unknown target is refused by code before any rule runs. */
  target: PartyFacts;
  offerAccess: boolean;
  hasCallback: boolean;
}

/** Facts of `connection.invite`; the connection does not exist yet, so its status is `new`. */
export function invitationFacts(input: InvitationInput): GuardFacts['connection.invite'] {
  return {
    source: clientFacts(input.source),
    target: clientFacts(input.target),
    connection: { id: input.connectionId, status: 'new', offerAccess: input.offerAccess, hasCallback: input.hasCallback, blockedBy: '' },
  };
}

export function connectionRuleFacts(view: ConnectionView): ConnectionRuleFacts {
  return {
    id: view.id,
    status: view.status,
    offerAccess: view.offerAccess,
    hasCallback: view.callback !== undefined,
    blockedBy: view.blockedBy ?? '',
  };
}

/** Facts of `connection.accept`, `connection.block` and `connection.end`, as the actor sends the command. */
export function commandFacts(
  view: ConnectionView,
  parties: { source: PartyFacts; target: PartyFacts },
  actor: ClientId,
): GuardFacts['connection.accept'] {
  return {
    source: clientFacts(parties.source),
    target: clientFacts(parties.target),
    connection: connectionRuleFacts(view),
    actor: { id: actor, role: actor === view.sourceClientId ? 'source' : 'target' },
  };
}
