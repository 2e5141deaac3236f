/**
 * The Temporal contract of connections: workflow id, input, updates, queries and signal.
 * Client-safe: the API, the worker, tests and other services (by these names and JSON shapes)
 * use it; docs/architecture.md "Temporal contract" lists it for callers in other languages.
 *
 * Whoever can reach Temporal directly is trusted: the `actor` of an update is taken as given.
 * The HTTP API sets it from the API key, never from the request body.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ClientId, ConnectionFacts, ConnectionStatus, ConnectionView } from '../domain/connection.ts';
import { connectionCommands, type ConnectionCommands } from '../machines/connection.commands.ts';
import type { ConnectionRuleFacts } from '../rules/facts.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { commandUpdates, type CommandUpdates } from './commands.ts';

export interface ConnectionWorkflowInput {
  connectionId: string;
  sourceClientId: ClientId;
  targetClientId: ClientId;
  offerAccess: boolean;
  /** URL only; the secret stays (encrypted) in Postgres and never enters workflow history. */
  callbackUrl?: string | null;
  /**
   * The rule set this connection is pinned to, in full (its `hash` is the version) — or, instead,
   * `ruleSetVersion`: a published version, read at start (the API passes the active one's). With
   * neither, the workflow reads the active one at start.
   */
  ruleSet?: CompiledRuleSet;
  ruleSetVersion?: string;
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
  /** Answers of recent commands by update id (workflows/answered-updates.ts). */
  answeredUpdates?: Array<[string, unknown]>;
}

/** Every connection update names the connection (a newer connection of the pair refuses it) and the actor. */
export interface CommandArgs {
  connectionId: string;
  actor: ClientId;
}

/** `accept`, `decline`, `withdraw`, `setOfferAccess` (+ `offerAccess`), `block`, `unblock`, `end`: each returns the recorded view. */
export const connectionUpdates: CommandUpdates<ConnectionCommands, { connectionId: string }, ConnectionView> = commandUpdates(connectionCommands);

/**
 * Operator command: move this running connection to another (normally the newly active) rule set.
 * Nothing else ever changes a running connection's rules.
 */
export const upgradeRulesUpdate = defineUpdate<ConnectionView, [{ ruleSet: CompiledRuleSet }]>('upgradeRules');

/**
 * Waits until the invitation has been processed and recorded in the read model, then returns the
 * connection (status `invited`, or `rejected` when the workflow's own re-check refused it). The API
 * calls it right after starting the workflow so its 201 already shows the recorded row.
 */
export const invitationUpdate = defineUpdate<ConnectionView, [{ connectionId: string }]>('invitation');

/**
 * Asked by a purchase (through its activity) for the cross-client items of one source: may the
 * seller sell them through this connection now? The validator refuses unless the connection id is
 * the current one, the actor is its target, the status is `active`, offer access is on and the
 * contract modules are active — a refusal never enters history. The accepted update is the
 * purchase's linearization point against a concurrent block or offer-access change. Changes
 * nothing; answers the connection's PINNED rule set (for the payout shares) and the connection's
 * rule facts as they were at that point. Update id: `sale:<seller>:<orderId>:<connectionId>`.
 */
export interface AuthorizeSaleArgs {
  connectionId: string;
  /** The seller: the connection's target. */
  actor: ClientId;
  /** The purchase asking (its workflow id). */
  purchaseId: string;
  offerIds: string[];
  /**
   * `'version'`: answer the pinned rule set by its version only — the asker reads published
   * versions itself — so that each sale adds ~0.2 KB to this connection's history, not the whole
   * rule set (~2 KB). Without it the answer carries the rule set (askers from before).
   */
  ruleSet?: 'version';
}
export interface SaleAuthorization {
  connectionId: string;
  ruleSet: CompiledRuleSet;
  connection: ConnectionRuleFacts;
}
/** The answer to an ask with `ruleSet: 'version'` (a connection run by older code answers in full). */
export interface SaleAuthorizationByVersion {
  connectionId: string;
  ruleSetVersion: string;
  connection: ConnectionRuleFacts;
}
export const authorizeSaleUpdate = defineUpdate<SaleAuthorization | SaleAuthorizationByVersion, [AuthorizeSaleArgs]>('authorizeSale');
export const saleUpdateId = (sellerClientId: ClientId, orderId: string, connectionId: string): string => `sale:${sellerClientId}:${orderId}:${connectionId}`;

export interface ConnectionStateQueryResult {
  value: ConnectionStatus;
  context: Record<string, unknown>;
  version: number;
  ruleSetVersion: string | null;
}
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

export const connectionWorkflowId = (source: ClientId, target: ClientId): string => `connection:${source}:${target}`;
