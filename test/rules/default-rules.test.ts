/**
 * The default rule set states today's behaviour: the invitation prerequisites of domain.md, the
 * mails of the connection machine, a 30-day TTL and the whole amount to the source.
 */
import { describe, expect, test } from 'vitest';
import { connectionMachine } from '../../machines/connection.machine.ts';
import { invitationFacts } from '../../rules/connection-facts.ts';
import { NOTIFICATION_EVENTS } from '../../rules/model.ts';
import type { PartyFacts } from '../../workflows/messages.ts';
import { defaultRulesSource, evaluatorFor, payoutFacts } from './support.ts';

const rules = evaluatorFor(defaultRulesSource());

const party = (clientId: string, contractingCompanyId: string, moduleActive: boolean): PartyFacts => ({
  clientId, name: `Client ${clientId}`, email: `${clientId.toLowerCase()}@example.com`, language: 'de', contractingCompanyId, moduleActive,
});

const combinations = [true, false].flatMap((sourceModule) =>
  [true, false].flatMap((targetModule) =>
    [true, false].flatMap((sameCompany) => [true, false].map((hasCallback) => ({ sourceModule, targetModule, sameCompany, hasCallback })))),
);

/** domain.md "Prerequisites" and "Across contracting companies", as a table. */
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

/** The mails the machine sends per event: `(invite)` is the initial transition into `invited`. */
function machineMails(): Map<string, { template: string; to: string }> {
  const mails = new Map<string, { template: string; to: string }>();
  const collect = (event: string, transitions: unknown) => {
    for (const t of [transitions].flat() as Array<{ actions?: unknown }>) {
      for (const a of [t?.actions ?? []].flat() as Array<{ type?: string; params?: { template: string; to: string } }>) {
        if (a?.type === 'sendMail' && a.params) mails.set(event, a.params);
      }
    }
  };
  for (const state of Object.values(connectionMachine.config.states ?? {})) {
    if (state.always) collect('invite', state.always);
    for (const [event, transitions] of Object.entries(state.on ?? {})) collect(event, transitions);
  }
  return mails;
}

describe('the default rule set keeps every mail of the lifecycle', () => {
  test.each([...machineMails()])('%s mails as the machine does', (event, { template, to }) => {
    expect(rules.notification(`connection.${event}` as (typeof NOTIFICATION_EVENTS)[number])).toEqual({ template, recipient: to, enabled: true });
  });

  test('there is a notification for every event that mails, and no other', () => {
    expect(NOTIFICATION_EVENTS.map((e) => e.replace('connection.', '')).sort()).toEqual([...machineMails().keys()].sort());
  });
});

describe('the default rule set keeps timers and payouts', () => {
  test('an invitation lives 30 days, as before rules existed', () => {
    expect(rules.invitationTtlMs()).toBe(30 * 24 * 60 * 60 * 1000); // domain.md: 30 days
  });

  test('the source receives 100 % of each cross-client item', () => {
    expect(rules.payoutShare(payoutFacts(1999))).toEqual({ ok: true, ruleId: 'source-receives-all', shareBasisPoints: 10000, shareMinor: 1999 });
  });
});
