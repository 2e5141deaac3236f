/**
 * Rule sets and facts for the rules tests: a minimal valid rule set to add sections to, and
 * fact builders with sensible defaults so each test states only what it is about.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { createEvaluator, type RulesEvaluator } from '../../rules/evaluator.ts';
import type { RulesError } from '../../rules/errors.ts';
import type { ClientFacts, ConnectionRuleFacts, GuardFacts, PayoutFacts } from '../../rules/facts.ts';
import { loadRuleSet } from '../../rules/loader.ts';
import type { CompiledRuleSet } from '../../rules/model.ts';

export const DEFAULT_RULES_PATH = fileURLToPath(new URL('../../rules/default.rules.yaml', import.meta.url));
export const defaultRulesSource = (): string => readFileSync(DEFAULT_RULES_PATH, 'utf8');

/** The mandatory sections, every mail on: the rest of a test rule set is appended. */
export const HEADER = `version: 1
name: test
timers:
  invitationTtl: P30D
notifications:
  connection.invite: { template: invitation, recipient: target }
  connection.accept: { template: accepted, recipient: source }
  connection.decline: { template: declined, recipient: source }
  connection.withdraw: { template: withdrawn, recipient: target }
  connection.expire: { template: expired, recipient: source }
  connection.setOfferAccess: { template: offerAccessChanged, recipient: target }
  connection.block: { template: blocked, recipient: otherParty }
  connection.unblock: { template: unblocked, recipient: otherParty }
  connection.end: { template: ended, recipient: otherParty }
`;
/** HEADER with the sale mail routed too: every event that may mail is listed. */
export const FULL_HEADER = `${HEADER}  purchase.record: { template: saleRecorded, recipient: source }
`;

export function compile(source: string): CompiledRuleSet {
  const result = loadRuleSet(source, { file: 'test.rules.yaml' });
  if (!result.ok) throw new Error(`expected a valid rule set:\n${result.errors.map((e) => `${e.code} ${e.message} ${e.line}:${e.column}`).join('\n')}`);
  return result.ruleSet;
}

export const evaluatorFor = (source: string): RulesEvaluator => createEvaluator(compile(source));

/** The errors of a rule set that must not load. */
export function errorsOf(source: string): RulesError[] {
  const result = loadRuleSet(source, { file: 'broken.rules.yaml' });
  expect(result.ok, 'the rule set should have been refused').toBe(false);
  return result.ok ? [] : result.errors;
}

/** Guards for one event, written as YAML list items (already indented by the caller). */
export const guardsFor = (event: string, items: string): string => `${HEADER}guards:\n  ${event}:\n${items}`;

export function client(id: string, company = 'COMPANY1', moduleActive = true, name = `Client ${id}`): ClientFacts {
  return { id, name, language: 'de', company: { id: company, moduleActive } };
}

export function connection(overrides: Partial<ConnectionRuleFacts> = {}): ConnectionRuleFacts {
  return { id: 'conn-1', status: 'new', offerAccess: true, hasCallback: false, blockedBy: '', ...overrides };
}

export function invitation(overrides: Partial<GuardFacts['connection.invite']> = {}): GuardFacts['connection.invite'] {
  return { source: client('SOURCE'), target: client('TARGET'), connection: connection(), ...overrides };
}

export function command(role: 'source' | 'target', overrides: Partial<GuardFacts['connection.accept']> = {}): GuardFacts['connection.accept'] {
  return {
    ...invitation(),
    connection: connection({ status: 'active' }),
    actor: { id: role === 'source' ? 'SOURCE' : 'TARGET', role },
    ...overrides,
  };
}

export function payoutFacts(amountMinor: number, overrides: Partial<PayoutFacts> = {}): PayoutFacts {
  const item = { offerId: 'offer-1', amountMinor, external: true, sourceClientId: 'SOURCE' };
  return {
    seller: client('TARGET'),
    source: client('SOURCE'),
    connection: connection({ status: 'active' }),
    offer: { id: 'offer-1', title: 'Digital subscription', priceMinor: 999, currency: 'EUR', ownerClientId: 'SOURCE' },
    item,
    purchase: { orderId: 'order-1', customerId: 'cust-1', paymentMethod: 'PAYPAL', currency: 'EUR', totalMinor: amountMinor, items: [item] },
    ...overrides,
  };
}
