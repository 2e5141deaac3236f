/**
 * The checks no rule set may weaken (issue 15, rules/invariants.ts): the contract module for
 * invite and accept, and a callback across contracting companies. The invitation's checks are
 * required by the loader used for publishing (a located error otherwise); the acceptance's module
 * check is the machine's own, in code, whatever the rule set.
 */
import { describe, expect, test } from 'vitest';
import type { PartyFacts } from '../../domain/connection.ts';
import { createEvaluator } from '../../rules/evaluator.ts';
import { checkInvitation } from '../../rules/invitation.policy.ts';
import { INVARIANT_GUARDS } from '../../rules/invariants.ts';
import { loadPublishableRuleSet } from '../../rules/loader.ts';
import { ConnectionEntity } from '../../workflows/connection.entity.ts';
import { compile, defaultRulesSource, HEADER } from './support.ts';

const defaults = defaultRulesSource();
const publishable = (source: string) => loadPublishableRuleSet(source, { file: 'draft.rules.yaml' });
const errorsOf = (source: string) => {
  const loaded = publishable(source);
  expect(loaded.ok, 'the draft should have been refused').toBe(false);
  return loaded.ok ? [] : loaded.errors;
};
const lineOf = (source: string, text: string) => source.split('\n').findIndex((l) => l.includes(text)) + 1;
const party = (clientId: string, company: string, moduleActive: boolean): PartyFacts => ({
  clientId, name: clientId, email: `${clientId.toLowerCase()}@example.test`, language: 'de', contractingCompanyId: company, moduleActive,
});

describe('the loader requires the invitation invariants for publishing', () => {
  test('the default rule set keeps them', () => {
    expect(publishable(defaults).ok).toBe(true);
  });

  test('a draft that omits the module guard is refused, located at the invite guards', () => {
    const draft = defaults.replace(/ {4}- id: source-module-active\n(?: {6}.*\n| {8}.*\n)+/, '');
    expect(draft).not.toContain('source-module-active');
    const errors = errorsOf(draft);
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'RULES_INVARIANT', file: 'draft.rules.yaml', line: lineOf(draft, '- id: target-module-active'), column: 5,
        message: expect.stringContaining('`source-module-active` of `connection.invite` is missing'),
        hint: expect.stringContaining('require: source.company.moduleActive'),
      }),
    ]);
    // Without the loader's check the same draft would let an invitation through while the module is off.
    const weak = createEvaluator(compile(draft));
    const invitation = { connectionId: 'c', source: party('A', 'NORD', false), target: party('B', 'NORD', false), offerAccess: true, hasCallback: false };
    expect(checkInvitation(invitation, weak)).toBeNull();
    expect(checkInvitation(invitation, createEvaluator(compile(defaults)))).toMatchObject({ code: 'CONTRACT_MODULE_INACTIVE', details: { rule: 'source-module-active' } });
  });

  test('a draft without any guards is refused once per invariant', () => {
    expect(errorsOf(HEADER).map((e) => [e.code, e.message.split(':')[0]])).toEqual(
      INVARIANT_GUARDS.map((g) => ['RULES_INVARIANT', `guard \`${g.id}\` of \`connection.invite\` is missing`]),
    );
  });

  test('a weakened guard is refused at its expression', () => {
    const draft = defaults.replace('require: source.company.id == target.company.id || connection.hasCallback', 'require: "true"');
    const [error] = errorsOf(draft);
    const line = lineOf(draft, 'require: "true"');
    expect(error).toMatchObject({ code: 'RULES_INVARIANT', line, column: draft.split('\n')[line - 1]!.indexOf('"true"') + 1 });
    expect(error!.message).toContain('`callback-required` must require exactly');
  });

  test('another code, or a guard of the draft before them, is refused', () => {
    const recoded = defaults.replace(/code: CONTRACT_MODULE_INACTIVE/, 'code: RULE_REJECTED');
    expect(errorsOf(recoded)).toEqual([expect.objectContaining({ code: 'RULES_INVARIANT', line: lineOf(recoded, 'code: RULE_REJECTED'), message: expect.stringContaining('must refuse with code CONTRACT_MODULE_INACTIVE') })]);
    const first = defaults.replace('  connection.invite:\n', '  connection.invite:\n    - { id: own-first, require: "true", message: m }\n');
    expect(errorsOf(first).map((e) => e.message.split(' (')[0])).toEqual(INVARIANT_GUARDS.map((g, n) => `guard \`${g.id}\` must be guard ${n + 1} of \`connection.invite\``));
  });

  test('spacing, folding and reworded messages are the product owner’s to choose; guards of their own go after', () => {
    const draft = defaults
      .replace('require: source.company.id == target.company.id || target.company.moduleActive', 'require: >-\n        source.company.id==target.company.id\n        || target.company.moduleActive')
      .replace('needs a callback {url, secret}', 'braucht einen Callback')
      .replace('    # Customer data', '    - { id: partners-only, require: "target.name.startsWith(\'Verlag\')", message: no }\n    # Customer data');
    expect(publishable(draft).ok).toBe(false); // partners-only sits before callback-required
    const after = draft.replace('    - { id: partners-only, require: "target.name.startsWith(\'Verlag\')", message: no }\n', '');
    expect(publishable(after).ok).toBe(true);
  });
});

describe('the module check of accept holds in code', () => {
  test('a rule set with no guards at all still refuses accept while the module is off', () => {
    const bare = compile(HEADER); // loads for the language, never publishable (above)
    const entity = ConnectionEntity.invite(
      { connectionId: 'c-1', sourceClientId: 'SOURCE', targetClientId: 'TARGET', offerAccess: true },
      { source: party('SOURCE', 'NORD', true), target: party('TARGET', 'NORD', true) },
      'connection:SOURCE:TARGET',
      new Date('2026-11-28T10:00:00Z'),
      { ruleSet: bare, evaluator: createEvaluator(bare) },
    ).entity;
    entity.applyModules({ contractingCompanyId: 'NORD', active: false, revision: 1 });
    expect(entity.refusal('c-1', { type: 'accept', actor: 'TARGET' }, new Date('2026-11-28T10:00:01Z'))).toMatchObject({ code: 'CONTRACT_MODULE_INACTIVE' });
  });
});
