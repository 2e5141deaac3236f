/**
 * The connection entity as pure code: what the workflow keeps between activations and decides
 * synchronously in validators and handlers.
 */
import { describe, expect, test } from 'vitest';
import { createEvaluator } from '../../rules/evaluator.ts';
import { ConnectionEntity } from '../../workflows/connection.entity.ts';
import type { PinnedRules } from '../../workflows/pinned-rules.ts';
import { inputProblem } from '../../workflows/connection.input.ts';
import type { ConnectionWorkflowInput } from '../../workflows/messages.ts';
import type { ConnectionFacts, PartyFacts } from '../../domain/connection.ts';
import { compile, defaultRulesSource } from '../rules/support.ts';

const ruleSet = compile(defaultRulesSource());
const rules: PinnedRules = { ruleSet, evaluator: createEvaluator(ruleSet) };
const party = (clientId: string, company = 'NORD'): PartyFacts => ({
  clientId, name: clientId, email: `${clientId.toLowerCase()}@example.test`, language: 'de', contractingCompanyId: company, moduleActive: true, moduleRevision: 3,
});
const facts: ConnectionFacts = { source: party('SOURCE'), target: party('TARGET') };
const input: ConnectionWorkflowInput = { connectionId: 'c-1', sourceClientId: 'SOURCE', targetClientId: 'TARGET', offerAccess: true };
const start = new Date('2026-11-27T10:00:00.000Z');
const later = (ms: number) => new Date(start.getTime() + ms);
const DAY = 24 * 60 * 60 * 1000;

function invited() {
  return ConnectionEntity.invite(input, facts, 'connection:SOURCE:TARGET', start, rules).entity;
}

describe('connection entity', () => {
  test('an invitation lives as long as the rule set says', () => {
    expect(invited().expiresAt).toBe(later(30 * DAY).toISOString());
  });

  test('accepting after the deadline is refused even before the expiry timer fired', () => {
    const entity = invited();
    expect(entity.refusal('c-1', { type: 'accept', actor: 'TARGET' }, later(30 * DAY - 1))).toBeNull();
    expect(entity.refusal('c-1', { type: 'accept', actor: 'TARGET' }, later(30 * DAY))).toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  test('each mail reports the facts of its own transition, not those at sending time', () => {
    const entity = invited();
    entity.apply({ type: 'setOfferAccess', actor: 'SOURCE', offerAccess: false }, later(1));
    entity.apply({ type: 'setOfferAccess', actor: 'SOURCE', offerAccess: true }, later(2));
    entity.apply({ type: 'accept', actor: 'TARGET' }, later(3));
    expect(entity.outbox.map((m) => [m.template, m.offerAccess, m.expiresAt])).toEqual([
      ['invitation', true, later(30 * DAY).toISOString()],
      ['offerAccessChanged', false, later(30 * DAY).toISOString()],
      ['offerAccessChanged', true, later(30 * DAY).toISOString()],
      ['accepted', true, later(30 * DAY).toISOString()],
    ]);
  });

  test('the expiry mail names the deadline that passed', () => {
    const entity = invited();
    entity.apply({ type: 'expire' }, later(30 * DAY));
    expect(entity.outbox.at(-1)).toMatchObject({ template: 'expired', to: 'source', expiresAt: later(30 * DAY).toISOString() });
  });

  test('an older module switch arriving late does not undo a newer one', () => {
    const entity = invited();
    entity.applyModules({ contractingCompanyId: 'NORD', active: false, revision: 5 });
    entity.applyModules({ contractingCompanyId: 'NORD', active: true, revision: 4 });
    expect(entity.currentFacts.source).toMatchObject({ moduleActive: false, moduleRevision: 5 });
    expect(entity.refusal('c-1', { type: 'accept', actor: 'TARGET' }, later(1))).toMatchObject({ code: 'CONTRACT_MODULE_INACTIVE' });
    entity.refreshFacts({ source: { ...party('SOURCE'), moduleActive: true, moduleRevision: 6 }, target: { ...party('TARGET'), moduleActive: true, moduleRevision: 6 } });
    expect(entity.refusal('c-1', { type: 'accept', actor: 'TARGET' }, later(2))).toBeNull();
  });

  test('a finished connection refuses a rules upgrade', () => {
    const entity = invited();
    expect(entity.upgradeRefusal()).toBeNull();
    entity.apply({ type: 'decline', actor: 'TARGET' }, later(1));
    expect(entity.upgradeRefusal()).toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  test.each([
    [{ invitationTtlMs: -5 }, /invitationTtlMs/],
    [{ invitationTtlMs: 1.5 }, /invitationTtlMs/],
    [{ invitationTtlMs: 400 * DAY }, /invitationTtlMs/],
    [{ offerAccess: 'yes' as unknown as boolean }, /offerAccess/],
    [{ connectionId: '' }, /connectionId/],
  ])('a malformed input from a direct caller is named: %o', (bad, message) => {
    expect(inputProblem({ ...input, ...bad })).toMatch(message);
  });

  test('a well-formed input has no problem', () => {
    expect(inputProblem({ ...input, invitationTtlMs: 2000 })).toBeNull();
  });
});
