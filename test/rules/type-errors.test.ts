import { describe, expect, test } from 'vitest';
import { errorsOf, guardsFor, HEADER } from './support.ts';

const guard = (event: string, require: string) => guardsFor(event, `    - id: g\n      message: m\n      require: '${require}'\n`);
const codeOf = (source: string) => errorsOf(source).map((e) => e.code);

describe('expressions are type-checked against the facts of their event when the rule set loads', () => {
  test('a guard must be a bool', () => {
    expect(errorsOf(guard('connection.invite', 'size(source.name)'))[0]).toMatchObject({
      code: 'RULES_CEL_TYPE', message: 'expression must be a bool (true or false), but it is int',
    });
  });

  test('comparing text with a number is a type error', () => {
    expect(codeOf(guard('connection.invite', 'source.name > 3'))).toEqual(['RULES_CEL_TYPE']);
  });

  test('a bool fact cannot be used as a number', () => {
    expect(codeOf(guard('connection.invite', 'connection.offerAccess + 1 > 0'))).toEqual(['RULES_CEL_TYPE']);
  });

  test('facts of another event are unknown here', () => {
    const [error] = errorsOf(guard('connection.invite', 'size(cart.items) > 0'));
    expect(error).toMatchObject({ code: 'RULES_CEL_UNKNOWN_NAME', message: 'unknown fact `cart`' });
  });

  test('the actor is a fact of commands, not of the invitation', () => {
    expect(codeOf(guard('connection.invite', 'actor.role == "source"'))).toEqual(['RULES_CEL_UNKNOWN_NAME']);
    expect(() => errorsOf(guard('connection.accept', 'actor.role == "source"'))).toThrow();
  });

  test('an unknown field names its type and suggests the closest field', () => {
    expect(errorsOf(guard('connection.invite', 'target.company.modulActive'))[0]).toMatchObject({
      code: 'RULES_CEL_UNKNOWN_NAME', message: 'unknown field `modulActive` on Company', hint: 'did you mean `moduleActive`?',
    });
  });

  test('list items are typed too', () => {
    expect(errorsOf(guard('cart.activate', 'cart.items.exists(i, i.priceMinr > 0)'))[0]).toMatchObject({
      code: 'RULES_CEL_UNKNOWN_NAME', hint: 'did you mean `priceMinor`?',
    });
  });

  test('a payout share must be an int, with a hint for doubles', () => {
    const source = `${HEADER}payouts:\n  - { id: p, when: "true", shareBasisPoints: "double(item.amountMinor) * 0.5" }\n`;
    expect(errorsOf(source)[0]).toMatchObject({ code: 'RULES_CEL_TYPE', hint: 'use int(...) to turn a double into an int' });
  });

  test('a payout condition must be a bool', () => {
    expect(codeOf(`${HEADER}payouts:\n  - { id: p, when: item.amountMinor, shareBasisPoints: 10000 }\n`)).toEqual(['RULES_CEL_TYPE']);
  });

  test('a syntax error is reported as such', () => {
    expect(codeOf(guard('connection.invite', 'source.id === target.id'))).toEqual(['RULES_CEL_SYNTAX']);
  });
});
