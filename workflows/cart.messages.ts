/**
 * The Temporal contract of carts: workflow id, input, updates (one per declared command), query
 * and the availability signal. Client-safe, like workflows/messages.ts.
 *
 * Whoever can reach Temporal directly is trusted: the `actor` of an update is taken as given, and
 * so are the resolved items it carries.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PairAvailability } from '../domain/availability.ts';
import type { CartItem, CartStatus, CartView } from '../domain/cart.ts';
import type { ClientId } from '../domain/connection.ts';
import { cartCommands, type CartCommands } from '../machines/cart.commands.ts';
import type { ClientFacts } from '../rules/facts.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { commandUpdates, type CommandUpdates } from './commands.ts';

export const cartWorkflowId = (clientId: ClientId, cartId: string): string => `cart:${clientId}:${cartId}`;

export interface CartWorkflowInput {
  cartId: string;
  /** The seller: the client that owns the cart. */
  clientId: ClientId;
  title: string;
  /** Resolved against the offers by the caller (the API checks them against the read model). */
  items: CartItem[];
  /** The seller as rule facts (name, language, company and module). */
  seller: ClientFacts;
  /** The rule set this cart is pinned to, in full or as a published `ruleSetVersion`; with neither, the active one is read at start. */
  ruleSet?: CompiledRuleSet;
  ruleSetVersion?: string;
  historyEventLimit?: number;
  /** Set only by continue-as-new. */
  resume?: CartResume;
}

export interface CartResume {
  value: string;
  context: unknown;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Answers of recent commands by update id (workflows/answered-updates.ts). */
  answeredUpdates?: Array<[string, unknown]>;
}

export interface CartCommandArgs {
  cartId: string;
  actor: ClientId;
}

/** `setItems` (+ `items`), `activate`, `archive`: each returns the recorded view. */
export const cartUpdates: CommandUpdates<CartCommands, { cartId: string }, CartView> = commandUpdates(cartCommands);
export const cartUpgradeRulesUpdate = defineUpdate<CartView, [{ ruleSet: CompiledRuleSet }]>('upgradeRules');
/** Waits until the cart is recorded (the API calls it right after the start). */
export const cartCreatedUpdate = defineUpdate<CartView, [{ cartId: string }]>('created');

export interface CartStateQueryResult {
  value: CartStatus;
  context: Record<string, unknown>;
  version: number;
  ruleSetVersion: string | null;
}
export const cartStateQuery = defineQuery<CartStateQueryResult>('state');
export const cartViewQuery = defineQuery<CartView>('view');

/** From the pair's fan-out (and nobody else): what the seller may sell of one source now. */
export const availabilitySignal = defineSignal<[PairAvailability]>('availability');
