/**
 * The cart entity as pure code: item rules, activation, suspension and recovery as availability
 * comes and goes, stale availability ignored, archiving — what the cart workflow decides
 * synchronously in validators, handlers and its signal loop.
 */
import { describe, expect, test } from 'vitest';
import type { PairAvailability } from '../../domain/availability.ts';
import type { CartItem } from '../../domain/cart.ts';
import { checkCartItems } from '../../machines/cart.items.ts';
import type { CartCommandEvent } from '../../machines/cart.machine.ts';
import { createEvaluator } from '../../rules/evaluator.ts';
import type { ClientFacts } from '../../rules/facts.ts';
import { CartEntity } from '../../workflows/cart.entity.ts';
import type { CartWorkflowInput } from '../../workflows/cart.messages.ts';
import { compile, defaultRulesSource, guardsFor } from '../rules/support.ts';

const SELLER = 'SELLER00000000000001';
const SOURCE = 'SOURCE00000000000002';
const OTHER = 'OTHERSOURCE000000003';
const seller: ClientFacts = { id: SELLER, name: 'Abendblatt', language: 'de', company: { id: 'NORD', moduleActive: true } };
const pin = (source: string) => {
  const ruleSet = compile(source);
  return { ruleSet, evaluator: createEvaluator(ruleSet) };
};
const rules = pin(defaultRulesSource());
const now = new Date('2026-11-27T10:00:00.000Z');

const own = (offerId = 'own-1', mandatory = true): CartItem => ({
  offerId, title: 'Digital', mandatory, defaultSelected: mandatory, position: 0, external: false, sourceClientId: SELLER,
  priceMinor: 999, currency: 'EUR', available: true,
});
const external = (offerId = 'ext-1', mandatory = true, source = SOURCE): CartItem => ({
  ...own(offerId, mandatory), title: 'Partner', external: true, sourceClientId: source, position: 1,
});
const pair = (version: number, available: boolean, shared = ['ext-1', 'ext-2'], source = SOURCE): PairAvailability => ({
  sourceClientId: source, targetClientId: SELLER, version, available, sharedOfferIds: shared,
});
const input = (items: CartItem[]): CartWorkflowInput => ({ cartId: 'cart-1', clientId: SELLER, title: 'Kombi', items, seller });
const cmd = (type: 'activate' | 'archive', actor = SELLER): CartCommandEvent => ({ type, actor });

function cartWith(items: CartItem[], available = true) {
  const { entity } = CartEntity.create(input(items), 'cart:SELLER:cart-1', now, rules);
  entity.applyAvailability(pair(1, available), now);
  return entity;
}
function activeCart(items = [own(), external()]) {
  const entity = cartWith(items);
  expect(entity.refusal('cart-1', cmd('activate'), seller)).toBeNull();
  entity.apply(cmd('activate'), now);
  return entity;
}

describe('the items of a cart', () => {
  test.each([
    ['no item', [], 'RULE_REJECTED', 'cart-needs-item'],
    ['no mandatory item', [own('o', false)], 'RULE_REJECTED', 'cart-needs-mandatory-item'],
    ['an external offer alone', [external()], 'RULE_REJECTED', 'external-needs-own-offer'],
    ['two currencies', [own(), { ...external(), currency: 'CHF' }], 'CURRENCY_MISMATCH', undefined],
    ['one offer twice', [own(), own()], 'RULE_REJECTED', 'offer-once'],
  ] as const)('%s is refused with %s', (_name, items, code, rule) => {
    const refusal = checkCartItems(items as unknown as CartItem[]);
    expect(refusal?.code).toBe(code);
    if (rule) expect(refusal?.details).toMatchObject({ rule });
  });

  test('an own mandatory offer beside an optional external one is a cart', () => {
    expect(checkCartItems([own(), external('ext-1', false)])).toBeNull();
  });

  test('setting items checks the same rules in the workflow', () => {
    const entity = cartWith([own()]);
    expect(entity.refusal('cart-1', { type: 'setItems', actor: SELLER, items: [external()] }, seller)).toMatchObject({ code: 'RULE_REJECTED' });
    expect(entity.refusal('cart-1', { type: 'setItems', actor: SELLER, items: [own(), external()] }, seller)).toBeNull();
  });

  test('a rule set may add its own guard on items', () => {
    const strict = pin(guardsFor('cart.setItems', '    - id: at-most-one\n      require: size(cart.items) <= 1\n      message: one item only\n'));
    const { entity } = CartEntity.create(input([own()]), 'cart:SELLER:cart-1', now, strict);
    expect(entity.refusal('cart-1', { type: 'setItems', actor: SELLER, items: [own('a'), own('b')] }, seller)).toMatchObject({
      code: 'RULE_REJECTED', details: { rule: 'at-most-one' },
    });
  });
});

describe('the cart lifecycle', () => {
  test('a new cart is a draft whose external items count as unavailable until their source is read', () => {
    const { entity, first } = CartEntity.create(input([own(), external()]), 'cart:SELLER:cart-1', now, rules);
    expect(first.view).toMatchObject({ status: 'draft', version: 1, currency: 'EUR' });
    expect(first.view.items.map((i) => i.available)).toEqual([true, false]);
    expect(entity.unknownSources).toEqual([SOURCE]);
    expect(entity.applyAvailability(pair(3, true), now)?.view.items.map((i) => i.available)).toEqual([true, true]);
    expect(entity.unknownSources).toEqual([]);
  });

  test('a draft whose mandatory external item cannot be sold is not activated: ITEM_UNAVAILABLE', () => {
    const entity = cartWith([own(), external()], false);
    expect(entity.refusal('cart-1', cmd('activate'), seller)).toMatchObject({ code: 'ITEM_UNAVAILABLE', details: { offerIds: ['ext-1'] } });
  });

  test('an active cart is suspended while a mandatory external item is unavailable, and active again when it returns', () => {
    const entity = activeCart();
    const blocked = entity.applyAvailability(pair(2, false), now);
    expect(blocked?.view.status).toBe('suspended');
    expect(blocked?.history).toMatchObject({ event: 'availabilityChanged', from: 'active', to: 'suspended' });
    expect(entity.applyAvailability(pair(3, true), now)?.view.status).toBe('active');
  });

  test('an unavailable optional item is simply not offered: the cart stays active', () => {
    const entity = activeCart([own(), external('ext-1', false)]);
    const t = entity.applyAvailability(pair(2, false), now);
    expect(t?.view.status).toBe('active');
    expect(t?.view.items.find((i) => i.offerId === 'ext-1')?.available).toBe(false);
  });

  test('an offer no longer shared with the seller suspends the cart like a block', () => {
    const entity = activeCart();
    expect(entity.applyAvailability(pair(2, true, ['ext-2']), now)?.view.status).toBe('suspended');
  });

  test('a stale availability signal is ignored', () => {
    const entity = activeCart();
    expect(entity.applyAvailability(pair(5, false), now)?.view.status).toBe('suspended');
    expect(entity.applyAvailability(pair(4, true), now)).toBeNull();
    expect(entity.view().status).toBe('suspended');
    expect(entity.applyAvailability(pair(5, true), now)).toBeNull(); // the same version twice: once
  });

  test("another source's availability leaves these items alone", () => {
    const entity = activeCart();
    expect(entity.applyAvailability(pair(9, false, [], OTHER), now)).toBeNull();
    expect(entity.view().status).toBe('active');
  });

  test('items can be changed in draft only', () => {
    const entity = activeCart();
    expect(entity.refusal('cart-1', { type: 'setItems', actor: SELLER, items: [own()] }, seller)).toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  test.each(['draft', 'active', 'suspended'])('a %s cart can be archived, and nothing happens after', (state) => {
    const entity = state === 'draft' ? cartWith([own()]) : activeCart();
    if (state === 'suspended') entity.applyAvailability(pair(2, false), now);
    expect(entity.status).toBe(state);
    expect(entity.apply(cmd('archive'), now)?.view.status).toBe('archived');
    expect(entity.isFinal).toBe(true);
    expect(entity.refusal('cart-1', cmd('archive'), seller)).toMatchObject({ code: 'INVALID_TRANSITION' });
    expect(entity.applyAvailability(pair(99, true), now)).toBeNull();
  });

  test('another client gets NOT_FOUND for every command', () => {
    const entity = cartWith([own()]);
    expect(entity.refusal('cart-1', cmd('archive', SOURCE), seller)).toMatchObject({ code: 'NOT_FOUND' });
    expect(entity.refusal('other-cart', cmd('archive'), seller)).toMatchObject({ code: 'NOT_FOUND' });
  });

  test('each change of the view is a new version; continue-as-new resumes where it was', () => {
    const entity = activeCart();
    const v = entity.currentVersion;
    entity.applyAvailability(pair(2, false), now);
    expect(entity.currentVersion).toBe(v + 1);
    const resumed = CartEntity.resume(input([]), entity.toResume(), 'cart:SELLER:cart-1', rules);
    expect(resumed.view()).toEqual(entity.view());
    expect(resumed.applyAvailability(pair(2, true), now)).toBeNull(); // knows version 2 already
  });
});
