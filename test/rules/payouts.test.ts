import { describe, expect, test } from 'vitest';
import { roundedShare } from '../../rules/evaluator.ts';
import { evaluatorFor, HEADER, payoutFacts } from './support.ts';

const payouts = (rules: string) => evaluatorFor(`${HEADER}payouts:\n${rules}`);

describe('payout shares', () => {
  test('the first rule whose condition holds gives the share', () => {
    const rules = payouts(`  - { id: paypal-half, when: 'purchase.paymentMethod == "PAYPAL"', shareBasisPoints: 5000 }
  - { id: otherwise-all, when: "true", shareBasisPoints: 10000 }
`);
    expect(rules.payoutShare(payoutFacts(1000))).toEqual({ ok: true, ruleId: 'paypal-half', shareBasisPoints: 5000, shareMinor: 500 });
    const card = payoutFacts(1000, { purchase: { ...payoutFacts(1000).purchase, paymentMethod: 'CREDIT_CARD' } });
    expect(rules.payoutShare(card)).toEqual({ ok: true, ruleId: 'otherwise-all', shareBasisPoints: 10000, shareMinor: 1000 });
  });

  test('a share may be computed from the facts, money as integers in minor units', () => {
    const rules = payouts('  - { id: tiered, when: "true", shareBasisPoints: "item.amountMinor >= 10000 ? 8000 : 9000" }\n');
    expect(rules.payoutShare(payoutFacts(10000))).toMatchObject({ shareBasisPoints: 8000, shareMinor: 8000 });
    expect(rules.payoutShare(payoutFacts(9999))).toMatchObject({ shareBasisPoints: 9000, shareMinor: 8999 });
  });

  test.each([
    [1, 5000, 1], // 0.5 rounds away from zero
    [3, 5000, 2], // 1.5 → 2
    [5, 3333, 2], // 1.6665 → 2
    [999, 3333, 333], // 332.9667 → 333
    [1999, 2500, 500], // 499.75 → 500
    [2, 2500, 1], // 0.5 → 1
    [1, 4999, 0], // 0.4999 → 0
    [0, 10000, 0],
    [123456789, 10000, 123456789],
  ])('%d minor units at %d basis points give a share of %d', (amount, bp, share) => {
    const rules = payouts(`  - { id: fixed, when: "true", shareBasisPoints: ${bp} }\n`);
    expect(rules.payoutShare(payoutFacts(amount))).toEqual({ ok: true, ruleId: 'fixed', shareBasisPoints: bp, shareMinor: share });
  });

  test('rounding is half away from zero for negative amounts too', () => {
    expect(roundedShare(-1n, 5000n)).toBe(-1n);
    expect(roundedShare(-3n, 3333n)).toBe(-1n);
  });

  test('when no rule applies, nothing is shared', () => {
    const rules = payouts('  - { id: never, when: "false", shareBasisPoints: 10000 }\n');
    expect(rules.payoutShare(payoutFacts(1000))).toEqual({ ok: true, ruleId: null, shareBasisPoints: 0, shareMinor: 0 });
    expect(evaluatorFor(HEADER).payoutShare(payoutFacts(1000))).toMatchObject({ ruleId: null, shareMinor: 0 });
  });

  test('a computed share outside 0..10000 is an error of that rule, not a crash', () => {
    const rules = payouts('  - { id: too-much, when: "true", shareBasisPoints: "item.amountMinor * 20" }\n');
    expect(rules.payoutShare(payoutFacts(1000))).toEqual({
      ok: false, ruleId: 'too-much', error: 'share must be an int between 0 and 10000 basis points, got 20000',
    });
  });

  test('a share that cannot be evaluated is an error of that rule', () => {
    const rules = payouts('  - { id: divides, when: "true", shareBasisPoints: "10000 / (item.amountMinor - item.amountMinor)" }\n');
    expect(rules.payoutShare(payoutFacts(1000))).toMatchObject({ ok: false, ruleId: 'divides' });
  });

  test('an amount that is not a whole number of minor units is an error, never a float share', () => {
    const rules = payouts('  - { id: all, when: "true", shareBasisPoints: 10000 }\n');
    expect(rules.payoutShare(payoutFacts(9.99))).toMatchObject({ ok: false });
  });

  test('YAML numbers and bools are accepted as expressions', () => {
    const rules = payouts('  - { id: all, when: true, shareBasisPoints: 2500 }\n');
    expect(rules.payoutShare(payoutFacts(400))).toMatchObject({ ok: true, shareMinor: 100 });
  });
});
