/**
 * The default rule set states today's behaviour: the invitation prerequisites of the domain, the
 * mails of the lifecycle table (docs/architecture.md "Domain"), a 30-day TTL and the whole amount to the source.
 */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { DEFAULT_RULES_FILE } from '../../api/rule-set.service.ts';
import { invitationFacts } from '../../rules/connection-facts.ts';
import { loadRuleSet } from '../../rules/loader.ts';
import { NOTIFICATION_EVENTS, notificationEventOf } from '../../rules/model.ts';
import type { PartyFacts } from '../../domain/connection.ts';
import { defaultRulesSource, evaluatorFor, payoutFacts } from './support.ts';

const rules = evaluatorFor(defaultRulesSource());

const party = (clientId: string, contractingCompanyId: string, moduleActive: boolean): PartyFacts => ({
  clientId, name: `Client ${clientId}`, email: `${clientId.toLowerCase()}@example.com`, language: 'de', contractingCompanyId, moduleActive,
});

const combinations = [true, false].flatMap((sourceModule) =>
  [true, false].flatMap((targetModule) =>
    [true, false].flatMap((sameCompany) => [true, false].map((hasCallback) => ({ sourceModule, targetModule, sameCompany, hasCallback })))),
);

/** docs/architecture.md "Domain" and "Across contracting companies", as a table. */
function prerequisites(c: { sourceModule: boolean; targetModule: boolean; sameCompany: boolean; hasCallback: boolean }) {
  if (!c.sourceModule) return { code: 'CONTRACT_MODULE_INACTIVE', rule: 'source-module-active' };
  if (!c.sameCompany && !c.targetModule) return { code: 'CONTRACT_MODULE_INACTIVE', rule: 'target-module-active' };
  if (!c.sameCompany && !c.hasCallback) return { code: 'RULE_REJECTED', rule: 'callback-required' };
  return null;
}

describe('the default rule set states the invitation prerequisites', () => {
  test.each(combinations)(
    'source module $sourceModule, target module $targetModule, same company $sameCompany, callback $hasCallback',
    ({ sourceModule, targetModule, sameCompany, hasCallback }) => {
      const source = party('SOURCE', 'COMPANYA', sourceModule);
      const target = party('TARGET', sameCompany ? 'COMPANYA' : 'COMPANYB', targetModule);
      const expected = prerequisites({ sourceModule, targetModule, sameCompany, hasCallback });
      const verdict = rules.checkGuards('connection.invite', invitationFacts({ connectionId: 'c1', source, target, offerAccess: true, hasCallback }));
      if (expected === null) {
        expect(verdict).toEqual({ allowed: true });
      } else {
        expect(verdict).toMatchObject({ allowed: false, code: expected.code, rule: expected.rule, failure: 'rejected' });
      }
    },
  );

  test('the table covers allowed and refused invitations alike', () => {
    const outcomes = combinations.map((c) => prerequisites(c)?.code ?? 'allowed');
    expect(new Set(outcomes)).toEqual(new Set(['allowed', 'CONTRACT_MODULE_INACTIVE', 'RULE_REJECTED']));
  });

  test('other commands carry no extra guards', () => {
    expect(rules.checkGuards('connection.accept', {
      ...invitationFacts({ connectionId: 'c1', source: party('S', 'A', true), target: party('T', 'B', false), offerAccess: true, hasCallback: false }),
      actor: { id: 'T', role: 'target' },
    })).toEqual({ allowed: true });
  });
});

/** the lifecycle table (docs/architecture.md "Domain"): the mail of each event and who gets it. */
const DOMAIN_MAILS: Record<string, [template: string, recipient: string]> = {
  invite: ['invitation', 'target'],
  accept: ['accepted', 'source'],
  decline: ['declined', 'source'],
  withdraw: ['withdrawn', 'target'],
  expire: ['expired', 'source'],
  setOfferAccess: ['offerAccessChanged', 'target'],
  block: ['blocked', 'otherParty'],
  unblock: ['unblocked', 'otherParty'],
  end: ['ended', 'otherParty'],
};

describe('the default rule set routes every mail of the lifecycle', () => {
  test.each(Object.entries(DOMAIN_MAILS))('%s mails as the lifecycle table says', (event, [template, recipient]) => {
    expect(rules.notification(notificationEventOf(event)!)).toEqual({ template, recipient, enabled: true });
  });

  test('each sale mails the source whose offers were sold', () => {
    expect(rules.notification('purchase.record')).toEqual({ template: 'saleRecorded', recipient: 'source', enabled: true });
  });

  test('every event that may mail is routed, and loads without warnings', () => {
    expect(NOTIFICATION_EVENTS.filter((e) => e.startsWith('connection.')).map((e) => e.replace('connection.', '')).sort()).toEqual(Object.keys(DOMAIN_MAILS).sort());
    expect(NOTIFICATION_EVENTS.filter((e) => !e.startsWith('connection.'))).toEqual(['purchase.record']);
    const loaded = loadRuleSet(readFileSync(DEFAULT_RULES_FILE, 'utf8'));
    expect(loaded.ok && loaded.warnings).toEqual([]);
  });
});

describe('the default rule set keeps timers and payouts', () => {
  test('an invitation lives 30 days, as before rules existed', () => {
    expect(rules.invitationTtlMs()).toBe(30 * 24 * 60 * 60 * 1000); // the domain's default: 30 days
  });

  test('the source receives 100 % of each cross-client item', () => {
    expect(rules.payoutShare(payoutFacts(1999))).toEqual({ ok: true, ruleId: 'source-receives-all', shareBasisPoints: 10000, shareMinor: 1999 });
  });
});
