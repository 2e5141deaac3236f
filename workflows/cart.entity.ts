/**
 * The state a cart workflow keeps, and the synchronous steps on it (like connection.entity.ts):
 * validators call `refusal`, handlers `apply` before their first await, the availability signal
 * `applyAvailability`. Deterministic, `now` passed in, unit-tested without Temporal.
 */
import { initialTransition, transition } from 'xstate';
import { offerAvailable, type PairAvailability } from '../domain/availability.ts';
import type { CartHistoryEntry, CartItem, CartStatus, CartView } from '../domain/cart.ts';
import { ErrorCode, type Refusal } from '../domain/errors.ts';
import { cartCurrency, checkCartItems } from '../machines/cart.items.ts';
import { cartMachine, type CartCommandEvent } from '../machines/cart.machine.ts';
import { explainCartRefusal, type CartSnapshot } from '../machines/cart.refusal.ts';
import { cartFacts } from '../rules/cart-facts.ts';
import type { ClientFacts } from '../rules/facts.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import type { PinnedRules } from './pinned-rules.ts';
import type { CartResume, CartWorkflowInput } from './cart.messages.ts';

export interface CartTransition {
  view: CartView;
  history: CartHistoryEntry;
}

/** The availability a cart knows per source (its highest version). */
type Known = Record<string, PairAvailability>;

export class CartEntity {
  private snapshot: CartSnapshot;
  private version: number;
  private readonly createdAt: string;
  private updatedAt: string;
  private known: Known;

  private constructor(
    private readonly input: CartWorkflowInput,
    resume: CartResume,
    private readonly workflowId: string,
    private rules: PinnedRules,
  ) {
    const { known, ...context } = resume.context as { known?: Known };
    this.snapshot = cartMachine.resolveState({ value: resume.value, context: context as never });
    this.known = known ?? {};
    this.version = resume.version;
    this.createdAt = resume.createdAt;
    this.updatedAt = resume.updatedAt;
  }

  /** A new cart in draft (version 1). Its external items count as unavailable until their source's availability is read. */
  static create(input: CartWorkflowInput, workflowId: string, now: Date, rules: PinnedRules): { entity: CartEntity; first: CartTransition } {
    const items = input.items.map((i) => ({ ...i, available: !i.external }));
    const [snapshot] = initialTransition(cartMachine, { cartId: input.cartId, clientId: input.clientId, title: input.title, items });
    const at = now.toISOString();
    const entity = new CartEntity(
      input,
      { value: String(snapshot.value), context: { ...snapshot.context, known: {} }, version: 1, createdAt: at, updatedAt: at },
      workflowId,
      rules,
    );
    return { entity, first: { view: entity.view(), history: { event: 'create', actor: input.clientId, from: null, to: 'draft', at } } };
  }

  static resume(input: CartWorkflowInput, resume: CartResume, workflowId: string, rules: PinnedRules): CartEntity {
    return new CartEntity(input, resume, workflowId, rules);
  }

  get status(): CartStatus {
    return String(this.snapshot.value) as CartStatus;
  }
  get isFinal(): boolean {
    return this.snapshot.status === 'done';
  }
  get currentVersion(): number {
    return this.version;
  }
  get ruleSet(): CompiledRuleSet {
    return this.rules.ruleSet;
  }
  /** Sources of external items whose availability this cart has not read yet. */
  get unknownSources(): string[] {
    const sources = new Set(this.snapshot.context.items.filter((i) => i.external).map((i) => i.sourceClientId));
    return [...sources].filter((s) => !this.known[s]).sort();
  }

  /** Why a command would be refused, or null. Pure: safe in an update validator. */
  refusal(cartId: string, event: CartCommandEvent, seller: ClientFacts): Refusal | null {
    if (cartId !== this.input.cartId) return { code: ErrorCode.NOT_FOUND, message: 'cart not found' };
    const refusal = explainCartRefusal(this.snapshot, event);
    if (refusal) return refusal;
    if (event.type === 'setItems') {
      const items = this.withAvailability(event.items);
      const invalid = checkCartItems(items);
      if (invalid) return invalid;
      return this.guard('cart.setItems', seller, items);
    }
    if (event.type === 'activate') return this.guard('cart.activate', seller, this.snapshot.context.items);
    return null;
  }

  upgradeRefusal(): Refusal | null {
    return this.isFinal ? { code: ErrorCode.INVALID_TRANSITION, message: `cannot upgrade the rules of a cart that is ${this.status}` } : null;
  }

  upgradeRules(rules: PinnedRules, now: Date): CartTransition | null {
    if (rules.ruleSet.hash === this.rules.ruleSet.hash) return null;
    this.rules = rules;
    return this.step('upgradeRules', null, this.status, now);
  }

  /** Applies a command; items set now take the availability this cart knows of their sources. */
  apply(event: CartCommandEvent, now: Date): CartTransition | null {
    const from = this.status;
    const applied = event.type === 'setItems' ? { ...event, items: this.withAvailability(event.items) } : event;
    const [next] = transition(cartMachine, this.snapshot, applied);
    if (next === this.snapshot) return null;
    this.snapshot = next;
    return this.step(event.type, event.actor, from, now);
  }

  /**
   * What the seller may sell of one source now. Older than what the cart knows: ignored (null).
   * Otherwise the items of that source are re-evaluated; a changed item is a transition (which may
   * suspend or resume the cart).
   */
  applyAvailability(pair: PairAvailability, now: Date): CartTransition | null {
    if (pair.targetClientId !== this.input.clientId) return null;
    const seen = this.known[pair.sourceClientId];
    if (seen && seen.version >= pair.version) return null;
    this.known = { ...this.known, [pair.sourceClientId]: pair };
    if (this.isFinal) return null;
    const items = this.withAvailability(this.snapshot.context.items);
    if (items.every((i, n) => i.available === this.snapshot.context.items[n]!.available)) return null;
    const from = this.status;
    this.snapshot = transition(cartMachine, this.snapshot, { type: 'availabilityChanged', items })[0];
    return this.step('availabilityChanged', null, from, now);
  }

  view(): CartView {
    const c = this.snapshot.context;
    return {
      id: c.cartId,
      clientId: c.clientId,
      workflowId: this.workflowId,
      title: c.title,
      status: this.status,
      currency: cartCurrency(c.items),
      items: c.items,
      version: this.version,
      ruleSetVersion: this.rules.ruleSet.hash,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
    };
  }

  snapshotForQuery() {
    return { value: this.status, context: { ...this.snapshot.context, known: this.known }, version: this.version, ruleSetVersion: this.rules.ruleSet.hash };
  }

  toResume(): CartResume {
    return {
      value: this.status,
      context: { ...this.snapshot.context, known: this.known },
      version: this.version,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
    };
  }

  private withAvailability(items: readonly CartItem[]): CartItem[] {
    return items.map((i) => ({ ...i, available: !i.external || offerAvailable(this.known[i.sourceClientId], i.offerId) }));
  }

  private guard(event: 'cart.setItems' | 'cart.activate', seller: ClientFacts, items: readonly CartItem[]): Refusal | null {
    const c = this.snapshot.context;
    const verdict = this.rules.evaluator.checkGuards(event, { seller, cart: cartFacts({ id: c.cartId, title: c.title, status: this.status }, items) });
    return verdict.allowed ? null : { code: verdict.code, message: verdict.message, details: { rule: verdict.rule } };
  }

  private step(event: string, actor: string | null, from: string, now: Date): CartTransition {
    this.version += 1;
    this.updatedAt = now.toISOString();
    return { view: this.view(), history: { event, actor, from, to: this.status, at: this.updatedAt } };
  }
}
