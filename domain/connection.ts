/**
 * The vocabulary of connections (domain words, docs/architecture.md): ids, statuses, what a
 * connection knows of its parties, and the view every layer passes around. Pure data and types:
 * imported by machines, rules, workflows, activities, db and api alike, importing none of them.
 */
export type ClientId = string;
export type Language = 'de' | 'en';
export type Party = 'source' | 'target';

/** The contract module that switches the whole feature on for a contracting company. */
export const CROSS_CLIENT_MODULE = 'CROSS_CLIENT_CONNECTIONS';

export const CONNECTION_STATUSES = ['invited', 'active', 'declined', 'withdrawn', 'expired', 'blocked', 'ended', 'rejected'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];
export const FINAL_STATUSES: readonly ConnectionStatus[] = ['declined', 'withdrawn', 'expired', 'ended', 'rejected'];

/** What a connection knows about one of its parties; loaded by an activity, refreshed by signal. */
export interface PartyFacts {
  clientId: ClientId;
  name: string;
  email: string;
  language: Language;
  contractingCompanyId: string;
  moduleActive: boolean;
  /** contract_modules.revision of `moduleActive` (0: never switched); newer facts win. */
  moduleRevision?: number;
}

export interface ConnectionFacts {
  source: PartyFacts;
  /** null: the target client does not exist (only reachable when Temporal is driven directly). */
  target: PartyFacts | null;
}

/** What every command returns and the read model stores: the connection as the API shows it. */
export interface ConnectionView {
  id: string;
  workflowId: string;
  sourceClientId: ClientId;
  targetClientId: ClientId;
  status: ConnectionStatus;
  offerAccess: boolean;
  blockedBy: ClientId | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
  ruleSetVersion: string | null;
  callback?: { url: string };
  rejection?: { code: string; message: string } | null;
}

/** One line of a connection's history (`GET /v1/connections/{id}`). */
export interface HistoryEntry {
  event: string;
  actor: ClientId | null;
  from: string | null;
  to: string;
  at: string;
}

/** One recorded step: the new view and the history line that led to it, written together. */
export interface ConnectionTransition {
  view: ConnectionView;
  history: HistoryEntry;
}
