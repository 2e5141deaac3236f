import { describe, expect, test } from 'vitest';
import { GUARD_EVENTS } from '../../rules/facts.ts';
import { client, command, evaluatorFor, guardsFor, HEADER, invitation } from './support.ts';

const twoGuards = guardsFor('connection.invite', `    - id: same-company
      require: source.company.id == target.company.id
      message: only within the contracting company
    - id: offer-access-on
      require: connection.offerAccess
      message: invite with offer access
`);

describe('guards', () => {
  test('an event without guards is allowed', () => {
    expect(evaluatorFor(HEADER).checkGuards('connection.invite', invitation())).toEqual({ allowed: true });
  });

  test('an invitation passing every guard is allowed', () => {
    expect(evaluatorFor(twoGuards).checkGuards('connection.invite', invitation())).toEqual({ allowed: true });
  });

  test('the first failing guard in file order decides', () => {
    const facts = invitation({ target: client('TARGET', 'OTHER'), connection: { ...invitation().connection, offerAccess: false } });
    expect(evaluatorFor(twoGuards).checkGuards('connection.invite', facts)).toEqual({
      allowed: false, rule: 'same-company', code: 'RULE_REJECTED', message: 'only within the contracting company', failure: 'rejected',
    });
  });

  test('a later guard refuses when the earlier ones pass', () => {
    const facts = invitation({ connection: { ...invitation().connection, offerAccess: false } });
    expect(evaluatorFor(twoGuards).checkGuards('connection.invite', facts)).toMatchObject({ allowed: false, rule: 'offer-access-on' });
  });

  test('guards of one event do not apply to another', () => {
    expect(evaluatorFor(twoGuards).checkGuards('connection.accept', command('target', { target: client('TARGET', 'OTHER') }))).toEqual({ allowed: true });
  });

  test('a guard may look at who sends the command', () => {
    const rules = evaluatorFor(guardsFor('connection.accept', '    - { id: only-target-accepts, require: actor.role == "target", message: only the target may accept }\n'));
    expect(rules.checkGuards('connection.accept', command('target'))).toEqual({ allowed: true });
    expect(rules.checkGuards('connection.accept', command('source'))).toMatchObject({ allowed: false, rule: 'only-target-accepts' });
  });

  test('a cart guard reads its items, with prices as integers in minor units', () => {
    const rules = evaluatorFor(guardsFor('cart.activate', `    - id: external-items-priced
      require: cart.items.all(i, !i.external || i.priceMinor >= 100)
      message: external offers cost at least 1.00
`));
    const item = (external: boolean, priceMinor: number) => ({
      offerId: 'o', title: 't', external, sourceClientId: external ? 'SOURCE' : 'TARGET', mandatory: true, priceMinor, currency: 'EUR',
    });
    const cart = (items: ReturnType<typeof item>[]) => ({ seller: client('TARGET'), cart: { id: 'c', title: 'Bundle', status: 'draft', currency: 'EUR', items } });
    expect(rules.checkGuards('cart.activate', cart([item(false, 5), item(true, 100)]))).toEqual({ allowed: true });
    expect(rules.checkGuards('cart.activate', cart([item(true, 99)]))).toMatchObject({ allowed: false, rule: 'external-items-priced' });
  });

  test('a purchase guard compares money amounts', () => {
    const rules = evaluatorFor(guardsFor('purchase.record', '    - { id: no-zero-orders, require: purchase.totalMinor > 0, message: nothing to record }\n'));
    const facts = (totalMinor: number) => ({
      seller: client('TARGET'),
      cart: { id: 'c', title: 't', status: 'active', currency: 'EUR', items: [] },
      purchase: { orderId: 'o1', customerId: 'c1', paymentMethod: 'PAYPAL', currency: 'EUR', totalMinor, items: [] },
    });
    expect(rules.checkGuards('purchase.record', facts(1))).toEqual({ allowed: true });
    expect(rules.checkGuards('purchase.record', facts(0))).toMatchObject({ allowed: false, rule: 'no-zero-orders' });
  });

  test('a guard that cannot be evaluated refuses (fail closed) and says why', () => {
    const rules = evaluatorFor(guardsFor('connection.invite', '    - { id: needs-company, require: source.company.moduleActive, message: m }\n'));
    const facts = invitation({ source: { id: 'SOURCE', name: 'S', language: 'de' } as never });
    expect(rules.checkGuards('connection.invite', facts)).toMatchObject({
      allowed: false, rule: 'needs-company', code: 'RULE_REJECTED', failure: 'error',
      message: expect.stringContaining('could not be evaluated'),
    });
  });

  test('money that is not a whole number of minor units refuses instead of throwing', () => {
    const rules = evaluatorFor(guardsFor('purchase.record', '    - { id: positive, require: purchase.totalMinor > 0, message: m }\n'));
    const facts = {
      seller: client('TARGET'), cart: { id: 'c', title: 't', status: 'active', currency: 'EUR', items: [] },
      purchase: { orderId: 'o1', customerId: 'c1', paymentMethod: 'PAYPAL', currency: 'EUR', totalMinor: 9.99, items: [] },
    };
    expect(rules.checkGuards('purchase.record', facts)).toMatchObject({ allowed: false, failure: 'error' });
  });

  test('every event of the format can carry guards', () => {
    const yaml = `${HEADER}guards:\n${GUARD_EVENTS.map((e) => `  ${e}:\n    - { id: g-${e.replace('.', '-').toLowerCase()}, require: "true", message: m }\n`).join('')}`;
    const rules = evaluatorFor(yaml);
    expect(rules.checkGuards('connection.accept', command('target'))).toEqual({ allowed: true });
  });
});
