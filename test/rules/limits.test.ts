import { describe, expect, test } from 'vitest';
import { loadRuleSet } from '../../rules/loader.ts';
import { LIMITS } from '../../rules/model.ts';
import { compile, errorsOf, guardsFor, HEADER } from './support.ts';

const guard = (require: string, message = 'm') => guardsFor('connection.invite', `    - id: g\n      message: ${message}\n      require: ${require}\n`);
/** A valid bool expression of exactly `length` characters (CEL ignores the padding). */
const expressionOf = (length: number) => `connection.offerAccess${' '.repeat(length - 22)}`;

describe('limits keep every rule cheap to evaluate', () => {
  test(`an expression of ${LIMITS.expressionLength} characters is accepted, one more is not`, () => {
    expect(() => compile(guard(`'${expressionOf(LIMITS.expressionLength)}'`))).not.toThrow();
    expect(errorsOf(guard(`'${expressionOf(LIMITS.expressionLength + 1)}'`))[0]).toMatchObject({ code: 'RULES_LIMIT' });
  });

  test(`nesting deeper than ${LIMITS.expressionDepth} is refused`, () => {
    expect(() => compile(guard(`${'('.repeat(10)}true${')'.repeat(10)}`))).not.toThrow();
    expect(errorsOf(guard(`${'('.repeat(40)}true${')'.repeat(40)}`))[0]).toMatchObject({ code: 'RULES_LIMIT' });
  });

  test('a huge list literal is refused', () => {
    const list = `[${Array.from({ length: 150 }, (_, i) => `"${i}"`).join(',')}]`;
    expect(errorsOf(guard(`'source.id in ${list}'`))[0]).toMatchObject({ code: 'RULES_LIMIT' });
  });

  test(`a message longer than ${LIMITS.messageLength} characters is refused`, () => {
    expect(errorsOf(guard('"true"', 'x'.repeat(LIMITS.messageLength + 1)))[0]).toMatchObject({ code: 'RULES_LIMIT' });
  });

  test(`more than ${LIMITS.rulesPerEvent} guards for one event are refused`, () => {
    const items = Array.from({ length: LIMITS.rulesPerEvent + 1 }, (_, i) => `    - { id: g${i}, require: "true", message: m }\n`).join('');
    expect(errorsOf(guardsFor('connection.invite', items)).map((e) => e.code)).toEqual(['RULES_LIMIT']);
  });

  test(`more than ${LIMITS.payoutRules} payout rules are refused`, () => {
    const items = Array.from({ length: LIMITS.payoutRules + 1 }, (_, i) => `  - { id: p${i}, when: "true", shareBasisPoints: 1 }\n`).join('');
    expect(errorsOf(`${HEADER}payouts:\n${items}`).map((e) => e.code)).toEqual(['RULES_LIMIT']);
  });

  test('a rule set larger than the size limit is refused before it is parsed', () => {
    const source = `${HEADER}# ${'x'.repeat(LIMITS.sourceBytes)}\n`;
    expect(errorsOf(source).map((e) => e.code)).toEqual(['RULES_LIMIT']);
  });

  test('YAML alias bombs are refused quickly', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const started = performance.now();
    const result = loadRuleSet(`${bomb.join('\n')}\n`);
    expect(result.ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
