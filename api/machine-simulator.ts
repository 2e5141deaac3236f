/**
 * The /machines simulator: one event applied to a machine in a state, as a chosen actor, under a
 * rule set — with the same pure code the workflows run (the machine's `transition`, its refusal
 * explanation, the rule set's guards and mail routing). No workflow, no database: a scenario of a
 * few switches stands in for the facts a real workflow holds.
 */
import { initialTransition, transition } from 'xstate';
import type { CartItem } from '../domain/cart.ts';
import type { PartyFacts } from '../domain/connection.ts';
import type { Refusal } from '../domain/errors.ts';
import { hasFlag, NOTIFY } from '../machines/commands.ts';
import { cartCommands } from '../machines/cart.commands.ts';
import { cartMachine, type CartCommandEvent, type CartEvent } from '../machines/cart.machine.ts';
import { explainCartRefusal } from '../machines/cart.refusal.ts';
import { connectionCommands } from '../machines/connection.commands.ts';
import { connectionMachine, type CommandEvent, type ConnectionContext } from '../machines/connection.machine.ts';
import { explainRefusal } from '../machines/connection.refusal.ts';
import { cartFacts } from '../rules/cart-facts.ts';
import { clientFacts } from '../rules/connection-facts.ts';
import type { GuardVerdict, RulesEvaluator } from '../rules/evaluator.ts';
import type { GuardFacts } from '../rules/facts.ts';
import type { NotificationEvent } from '../rules/model.ts';

export interface ConnectionScenario {
  sameCompany: boolean;
  sourceModuleActive: boolean;
  targetModuleActive: boolean;
  hasCallback: boolean;
  offerAccess: boolean;
  blockedBy: 'source' | 'target' | null;
}

export interface CartScenario {
  /** Besides its own mandatory offer, the cart holds a mandatory offer of a connected source. */
  externalItem: boolean;
  externalAvailable: boolean;
}

export type Role = 'source' | 'target' | 'seller' | 'stranger' | 'system';

export interface Simulated<S> {
  outcome: 'moved' | 'refused';
  from: string;
  to: string;
  /** Who refused: the machine (state, actor, modules) or a rule of the rule set. */
  refusal: { by: 'machine' | 'rule'; code: string; message: string; rule: string | null } | null;
  /** Effects the transition names (besides the mail). */
  effects: string[];
  mails: Array<{ template: string; to: string }>;
  scenario: S;
}

/** Stand-in client ids: the simulator knows roles, not clients. */
const ID = { source: 'SIMSOURCE00000000000', target: 'SIMTARGET00000000000', seller: 'SIMSELLER00000000000', stranger: 'SIMSTRANGER000000000' } as const;
const roleOfId = (id: string | null): 'source' | 'target' | null => (id === ID.source ? 'source' : id === ID.target ? 'target' : null);

function party(role: 'source' | 'target' | 'seller', s: { sameCompany: boolean; moduleActive: boolean }): PartyFacts {
  const company = role === 'target' && !s.sameCompany ? 'SIMCOMPANYB000000000' : 'SIMCOMPANYA000000000';
  return { clientId: ID[role], name: role, email: `${role}@example.test`, language: 'en', contractingCompanyId: company, moduleActive: s.moduleActive };
}

const fromRule = (v: GuardVerdict) => (v.allowed ? null : { by: 'rule' as const, code: v.code, message: v.message, rule: v.rule });
const fromMachine = (r: Refusal) => ({ by: 'machine' as const, code: r.code, message: r.message, rule: null });

function mailsOf(rules: RulesEvaluator, event: NotificationEvent, actor: Role): Array<{ template: string; to: string }> {
  const n = rules.notification(event);
  if (!n?.enabled) return [];
  const to = n.recipient === 'otherParty' ? (actor === 'source' ? 'target' : 'source') : n.recipient;
  return [{ template: n.template, to }];
}

/** The effects the transition taken names (by name, as in the drawing), the mail apart. */
const effectsOf = (transitions: ReadonlyArray<{ actions: ReadonlyArray<unknown> }>): string[] =>
  transitions.flatMap((t) => t.actions.map((a) => (typeof a === 'string' ? a : ((a as { type?: string }).type ?? '')))).filter((n) => n && n !== NOTIFY);

export function simulateConnection(
  rules: RulesEvaluator,
  request: { state: string; scenario: ConnectionScenario; event: string; actor: Role; offerAccess?: boolean | undefined },
): Simulated<ConnectionScenario> {
  const { state, scenario: s, event, actor } = request;
  const parties = {
    source: party('source', { sameCompany: s.sameCompany, moduleActive: s.sourceModuleActive }),
    target: party('target', { sameCompany: s.sameCompany, moduleActive: s.targetModuleActive }),
  };
  const context: ConnectionContext = {
    connectionId: 'simulated',
    sourceClientId: ID.source,
    targetClientId: ID.target,
    offerAccess: s.offerAccess,
    blockedBy: s.blockedBy ? ID[s.blockedBy] : null,
    expiresAt: null,
    modulesActive: s.sourceModuleActive && (s.sameCompany || s.targetModuleActive),
    rejection: null,
  };
  const refused = (refusal: Simulated<ConnectionScenario>['refusal']): Simulated<ConnectionScenario> =>
    ({ outcome: 'refused', from: state, to: state, refusal, effects: [], mails: [], scenario: s });
  const moved = (
    to: string, ctx: ConnectionContext, actions: ReadonlyArray<{ type: string }>, mailEvent: NotificationEvent, effects: string[] = [],
  ): Simulated<ConnectionScenario> => ({
    outcome: 'moved',
    from: state,
    to,
    refusal: null,
    effects,
    mails: actions.some((a) => a.type === NOTIFY) ? mailsOf(rules, mailEvent, actor) : [],
    scenario: { ...s, offerAccess: ctx.offerAccess, blockedBy: roleOfId(ctx.blockedBy) },
  });

  if (state === 'screening') {
    // The start: the API checks the invitation before anything exists (the workflow re-checks).
    if (event !== 'invite') return refused({ by: 'machine', code: 'INVALID_TRANSITION', message: `a connection starts with invite, not ${event}`, rule: null });
    if (actor !== 'source') return refused({ by: 'machine', code: 'FORBIDDEN_ACTOR', message: 'whoever invites is the source', rule: null });
    const facts: GuardFacts['connection.invite'] = {
      source: clientFacts(parties.source),
      target: clientFacts(parties.target),
      connection: { id: 'simulated', status: 'new', offerAccess: s.offerAccess, hasCallback: s.hasCallback, blockedBy: '' },
    };
    const verdict = rules.checkGuards('connection.invite', facts);
    if (!verdict.allowed) return refused(fromRule(verdict));
    const [next, actions] = initialTransition(connectionMachine, context);
    return moved(String(next.value), next.context, actions, 'connection.invite');
  }
  if (state === 'invited' && event === 'expire') {
    const snapshot = connectionMachine.resolveState({ value: state, context });
    const [next, actions] = transition(connectionMachine, snapshot, { type: 'expire' });
    return moved(String(next.value), next.context, actions, 'connection.expire', effectsOf(connectionMachine.getTransitionData(snapshot, { type: 'expire' })));
  }
  if (actor === 'system' || actor === 'seller') return refused({ by: 'machine', code: 'INVALID_TRANSITION', message: `only the parties send ${event}`, rule: null });
  const snapshot = connectionMachine.resolveState({ value: state, context });
  const cmd = { type: event, actor: ID[actor], ...(event === 'setOfferAccess' ? { offerAccess: request.offerAccess ?? !s.offerAccess } : {}) } as CommandEvent;
  const refusal = explainRefusal(snapshot, cmd);
  if (refusal) return refused(fromMachine(refusal));
  // The rule set's guards of a command its table marks `guarded`, as the workflow asks them.
  if (hasFlag(connectionCommands, 'guarded', cmd.type)) {
    const role = actor === 'source' ? 'source' : 'target';
    const verdict = rules.checkGuards(`connection.${cmd.type}`, {
      source: clientFacts(parties.source),
      target: clientFacts(parties.target),
      connection: { id: 'simulated', status: state, offerAccess: s.offerAccess, hasCallback: s.hasCallback, blockedBy: context.blockedBy ?? '' },
      actor: { id: ID[role], role },
    });
    if (!verdict.allowed) return refused(fromRule(verdict));
  }
  const [next, actions] = transition(connectionMachine, snapshot, cmd);
  return moved(String(next.value), next.context, actions, `connection.${cmd.type}` as NotificationEvent, effectsOf(connectionMachine.getTransitionData(snapshot, cmd)));
}

function cartItems(s: CartScenario): CartItem[] {
  const item = (offerId: string, external: boolean, available: boolean): CartItem => ({
    offerId, title: external ? 'Partner-Abo' : 'Eigenes Abo', mandatory: true, defaultSelected: true, position: external ? 1 : 0,
    external, sourceClientId: external ? ID.source : ID.seller, priceMinor: 990, currency: 'EUR', available,
  });
  return [item('own-offer', false, true), ...(s.externalItem ? [item('partner-offer', true, s.externalAvailable)] : [])];
}

export function simulateCart(
  rules: RulesEvaluator,
  request: { state: string; scenario: CartScenario; event: string; actor: Role; available?: boolean | undefined },
): Simulated<CartScenario> {
  const { state, scenario: s, event, actor } = request;
  const context = { cartId: 'simulated', clientId: ID.seller, title: 'Simulated cart', items: cartItems(s) };
  const snapshot = cartMachine.resolveState({ value: state, context });
  const refused = (refusal: Simulated<CartScenario>['refusal']): Simulated<CartScenario> =>
    ({ outcome: 'refused', from: state, to: state, refusal, effects: [], mails: [], scenario: s });
  let cartEvent: CartEvent;
  let after = s;
  if (event === 'availabilityChanged') {
    // From the pair's fan-out: the external item's availability changes (or is told again).
    if (actor !== 'system') return refused({ by: 'machine', code: 'INVALID_TRANSITION', message: 'availabilityChanged comes from the fan-out (system), never from a client', rule: null });
    after = { ...s, externalAvailable: s.externalItem ? (request.available ?? !s.externalAvailable) : s.externalAvailable };
    cartEvent = { type: 'availabilityChanged', items: cartItems(after) };
  } else {
    const cmd = { type: event, actor: actor === 'seller' ? ID.seller : ID.stranger, ...(event === 'setItems' ? { items: context.items } : {}) } as CartCommandEvent;
    if (actor !== 'seller' && actor !== 'stranger') return refused({ by: 'machine', code: 'INVALID_TRANSITION', message: `only the seller sends ${event}`, rule: null });
    const refusal = explainCartRefusal(snapshot, cmd);
    if (refusal) return refused(fromMachine(refusal));
    if (hasFlag(cartCommands, 'guarded', cmd.type)) {
      const seller = clientFacts(party('seller', { sameCompany: true, moduleActive: true }));
      const verdict = rules.checkGuards(`cart.${cmd.type}`, { seller, cart: cartFacts({ id: 'simulated', title: context.title, status: state }, context.items) });
      if (!verdict.allowed) return refused(fromRule(verdict));
    }
    cartEvent = cmd;
  }
  if (!snapshot.can(cartEvent)) return refused({ by: 'machine', code: 'INVALID_TRANSITION', message: `cannot ${event} a cart that is ${state}`, rule: null });
  const [next] = transition(cartMachine, snapshot, cartEvent);
  return { outcome: 'moved', from: state, to: String(next.value), refusal: null, effects: effectsOf(cartMachine.getTransitionData(snapshot, cartEvent)), mails: [], scenario: after };
}
