import { describe, expect, test } from 'vitest';
import { client, defaultRulesSource, evaluatorFor, HEADER, invitation, payoutFacts } from './support.ts';

describe('explain', () => {
  const rules = evaluatorFor(defaultRulesSource());

  test('every guard of the event is evaluated and explained, also after the first refusal', () => {
    const facts = invitation({ source: client('SOURCE', 'A', true), target: client('TARGET', 'B', false) });
    const explanation = rules.explain('connection.invite', facts);
    expect(explanation.result).toMatchObject({ allowed: false, rule: 'target-module-active' });
    expect(explanation.rules.map((r) => [r.rule, r.outcome])).toEqual([
      ['source-module-active', 'passed'],
      ['target-module-active', 'refused'],
      ['callback-required', 'refused'],
    ]);
  });

  test('each verdict shows the facts its expression read', () => {
    const facts = invitation({ source: client('SOURCE', 'A', true), target: client('TARGET', 'B', false) });
    const [, target] = rules.explain('connection.invite', facts).rules;
    expect(target!.facts).toEqual({ 'source.company.id': '"A"', 'target.company.id': '"B"', 'target.company.moduleActive': 'false' });
    expect(target!.why).toContain('CONTRACT_MODULE_INACTIVE');
  });

  test('the explanation names the rule set it used', () => {
    expect(rules.explain('connection.invite', invitation()).ruleSet).toEqual({ name: 'default', hash: rules.hash });
  });

  test('payout rules are explained in order: the first that applies wins, later ones are shadowed', () => {
    const payouts = evaluatorFor(`${HEADER}payouts:
  - { id: never, when: "false", shareBasisPoints: 1 }
  - { id: half, when: "item.amountMinor > 0", shareBasisPoints: 5000 }
  - { id: all, when: "true", shareBasisPoints: 10000 }
`);
    const explanation = payouts.explainPayout(payoutFacts(300));
    expect(explanation.rules.map((r) => [r.rule, r.outcome])).toEqual([['never', 'skipped'], ['half', 'applies'], ['all', 'shadowed']]);
    expect(explanation.result).toMatchObject({ ruleId: 'half', shareMinor: 150 });
    expect(explanation.rules[1]!.facts).toEqual({ 'item.amountMinor': '300' });
  });

  test('a rule that cannot be evaluated is explained as an error', () => {
    const explanation = rules.explain('connection.invite', invitation({ source: { id: 'S' } as never }));
    expect(explanation.rules[0]).toMatchObject({ outcome: 'error', why: expect.stringContaining('could not be evaluated') });
  });
});
