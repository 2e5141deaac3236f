/**
 * The Temporal contract of connections: workflow input, updates, query and signal. Client-safe:
 * the API, the worker, tests and other services (via these names and JSON shapes) use it.
 *
 * Whoever can reach Temporal directly is trusted: the `actor` of an update is taken as given.
 * The HTTP API sets it from the API key, never from the request body.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CompiledRuleSet } from '../rules/model.ts';

export type { CompiledRuleSet };

export type ClientId = string;
export type Language = 'de' | 'en';
export type ConnectionStatus =
  | 'invited'
  | 'active'
  | 'declined'
  | 'withdrawn'
  | 'expired'
  | 'blocked'
  | 'ended'
  | 'rejected';
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

export interface ConnectionWorkflowInput {
  connectionId: string;
  sourceClientId: ClientId;
  targetClientId: ClientId;
  offerAccess: boolean;
  /** URL only; the secret stays (encrypted) in Postgres and never enters workflow history. */
  callbackUrl?: string | null;
  /**
   * The rule set this connection is pinned to (its `hash` is the version). The API passes the
   * active one; without it the workflow loads the active one by an activity at start.
   */
  ruleSet?: CompiledRuleSet;
  /** Overrides the rule set's invitation TTL, in milliseconds (callers going to Temporal directly). */
  invitationTtlMs?: number;
  /** Facts, when the caller already has them; otherwise loaded by an activity at start. */
  facts?: ConnectionFacts;
  /**
   * Continue as new once the history has this many events, even before the server suggests it
   * (default: only when suggested). Operators lower it to keep histories short.
   */
  historyEventLimit?: number;
  /** Set only by continue-as-new: the state to resume from. */
  resume?: ConnectionResume;
}

/** The state a run hands to its successor on continue-as-new (opaque to callers). */
export interface ConnectionResume {
  value: string;
  context: unknown;
  version: number;
  createdAt: string;
  updatedAt: string;
  pendingMails: unknown[];
}

export interface CommandArgs {
  connectionId: string;
  actor: ClientId;
}
export interface SetOfferAccessArgs extends CommandArgs {
  offerAccess: boolean;
}

/** What every command returns and the `state` query is based on: the read-model row's content. */
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

export interface ConnectionStateQueryResult {
  value: ConnectionStatus;
  context: Record<string, unknown>;
  version: number;
  ruleSetVersion: string | null;
}

export const acceptUpdate = defineUpdate<ConnectionView, [CommandArgs]>('accept');
export const declineUpdate = defineUpdate<ConnectionView, [CommandArgs]>('decline');
export const withdrawUpdate = defineUpdate<ConnectionView, [CommandArgs]>('withdraw');
export const setOfferAccessUpdate = defineUpdate<ConnectionView, [SetOfferAccessArgs]>('setOfferAccess');
export const blockUpdate = defineUpdate<ConnectionView, [CommandArgs]>('block');
export const unblockUpdate = defineUpdate<ConnectionView, [CommandArgs]>('unblock');
export const endUpdate = defineUpdate<ConnectionView, [CommandArgs]>('end');

/**
 * Operator command: move this running connection to another (normally the newly active) rule set.
 * Nothing else ever changes a running connection's rules (design.md decision 4).
 */
export const upgradeRulesUpdate = defineUpdate<ConnectionView, [{ ruleSet: CompiledRuleSet }]>('upgradeRules');

export const stateQuery = defineQuery<ConnectionStateQueryResult>('state');
/** Wait-free read of the full view (used by the API right after start). */
export const viewQuery = defineQuery<ConnectionView>('view');

export interface ModulesChangedSignal {
  contractingCompanyId: string;
  active: boolean;
  /** The switch's revision: signals may arrive out of order; an older one is ignored. */
  revision?: number;
}
export const modulesChangedSignal = defineSignal<[ModulesChangedSignal]>('modulesChanged');

export interface ModuleFanoutInput extends ModulesChangedSignal {
  module: string;
}

export const connectionWorkflowId = (source: ClientId, target: ClientId): string =>
  `connection:${source}:${target}`;

/**
 * Waits until the invitation has been processed and recorded in the read model, then returns the
 * connection (status `invited`, or `rejected` when the workflow's own re-check refused it). The API
 * calls it right after starting the workflow so its 201 already shows the recorded row.
 */
export const invitationUpdate = defineUpdate<ConnectionView, [{ connectionId: string }]>('invitation');
