/** `ccx rules diff`, a publish's and a preview's `changes`: what differs, in a product owner's words (rules/diff.ts). */
import { describe, expect, test } from 'vitest';
import { diffRuleSets } from '../../rules/diff.ts';
import { compile, defaultRulesSource } from './support.ts';

const defaults = defaultRulesSource();
const base = compile(defaults);

describe('diff of two rule sets', () => {
  test('the same rule set, reformatted, changes nothing', () => {
    expect(diffRuleSets(base, compile(`${defaults}\n# a comment\n`))).toEqual([]);
  });

  test('guards, timers, mails and payout rules are named in words', () => {
    const draft = compile(
      defaults
        .replace('  connection.invite:\n', '  connection.accept:\n    - { id: weekdays-only, require: "connection.offerAccess", message: "only with offer access" }\n  connection.invite:\n')
        .replace('invitationTtl: P30D', 'invitationTtl: P2W')
        .replace('connection.block: { template: blocked, recipient: otherParty, enabled: true }', 'connection.block: { template: blocked, recipient: otherParty, enabled: false }')
        .replace('shareBasisPoints: "10000"', 'shareBasisPoints: "8000"'),
    );
    expect(diffRuleSets(base, draft).map((c) => [c.area, c.change, c.text])).toEqual([
      ['guard', 'added', 'When the target accepts an invitation: new guard `weekdays-only` refuses unless connection.offerAccess — answering RULE_REJECTED: "only with offer access"'],
      ['timer', 'changed', 'Invitations expire 2 weeks after they are sent (was 30 days); this applies to invitations sent after publishing'],
      ['mail', 'changed', 'When a party blocks a connection: no mail (was mail "blocked" to the other party)'],
      ['payout', 'changed', 'Payout rule `source-receives-all` now gives the source 80 % (8000 basis points) (was 100 % (10000 basis points))'],
    ]);
  });

  test('a removed guard and a new order of payout rules', () => {
    const from = compile(`${defaults.replace(/payouts:[\s\S]*$/, '')}payouts:\n  - { id: paypal, when: 'purchase.paymentMethod == "PAYPAL"', shareBasisPoints: 9700 }\n  - { id: rest, when: "true", shareBasisPoints: 10000 }\n`);
    const to = compile(`${defaults.replace(/payouts:[\s\S]*$/, '')}payouts:\n  - { id: rest, when: "true", shareBasisPoints: 10000 }\n  - { id: paypal, when: 'purchase.paymentMethod == "PAYPAL"', shareBasisPoints: 9700 }\n`);
    expect(diffRuleSets(from, to).map((c) => c.text)).toEqual(['Payout rules now run in the order rest, paypal (was paypal, rest); the first that applies decides']);
    const withoutCallback = compile(defaults.replace(/ {4}- id: callback-required\n(?: {6}.*\n)+/, ''));
    expect(diffRuleSets(base, withoutCallback)).toEqual([
      expect.objectContaining({ area: 'guard', change: 'removed', event: 'connection.invite', rule: 'callback-required' }),
    ]);
  });
});
