/**
 * Broken rule sets and exactly where their errors point: code, line and column (1-based) in the
 * YAML file — also when the expression sits in a block scalar, a folded plain scalar or a
 * quoted string with escapes. Shaped like cel-js's test/errors.test.js.
 */
import { describe, expect, test } from 'vitest';
import { formatRulesError } from '../../rules/errors.ts';
import { loadRuleSet } from '../../rules/loader.ts';
import { errorsOf, guardsFor, HEADER } from './support.ts';

// HEADER fills lines 1–14; guardsFor() puts `guards:` on line 15, the event on 16, items from 17.
const guard = (lines: string) => guardsFor('connection.invite', lines);

interface Case {
  name: string;
  source: string;
  code: string;
  line: number;
  column: number;
  hint?: string;
}

const cases: Case[] = [
  { name: 'YAML that does not parse', source: 'version: 1\nname: [unclosed\n', code: 'RULES_YAML_SYNTAX', line: 3, column: 1 },
  { name: 'a key given twice', source: 'version: 1\nname: a\nname: b\n', code: 'RULES_YAML_SYNTAX', line: 3, column: 1 },
  { name: 'an empty file', source: '', code: 'RULES_BAD_TYPE', line: 1, column: 1 },
  { name: 'a rule set without a language version', source: HEADER.replace('version: 1\n', ''), code: 'RULES_MISSING_FIELD', line: 1, column: 1 },
  { name: 'an unsupported language version', source: HEADER.replace('version: 1', 'version: 2'), code: 'RULES_BAD_VERSION', line: 1, column: 10 },
  { name: 'a misspelt section', source: `${HEADER}gaurds: {}\n`, code: 'RULES_UNKNOWN_SECTION', line: 15, column: 1, hint: 'did you mean `guards`?' },
  {
    name: 'an event that does not exist',
    source: guardsFor('connection.invitation', '    - { id: a, require: "true", message: m }\n'),
    code: 'RULES_UNKNOWN_EVENT', line: 16, column: 3, hint: 'did you mean `connection.invite`?',
  },
  {
    name: 'a misspelt field of a guard',
    source: guard('    - id: a\n      require: "true"\n      message: m\n      cod: RULE_REJECTED\n'),
    code: 'RULES_UNKNOWN_FIELD', line: 20, column: 7, hint: 'did you mean `code`?',
  },
  { name: 'a guard list written as a map', source: guard('    id: a\n'), code: 'RULES_BAD_TYPE', line: 17, column: 5 },
  {
    name: 'an error code outside the allow-list',
    source: guard('    - id: a\n      require: "true"\n      message: m\n      code: CONTRACT_MODULE_INACTIV\n'),
    code: 'RULES_BAD_CODE', line: 20, column: 13, hint: 'did you mean `CONTRACT_MODULE_INACTIVE`?',
  },
  {
    name: 'a mail template that does not exist',
    source: HEADER.replace('template: declined', 'template: decline'),
    code: 'RULES_BAD_TEMPLATE', line: 8, column: 35, hint: 'did you mean `declined`?',
  },
  {
    name: 'a recipient in the wrong case',
    source: HEADER.replace('template: ended, recipient: otherParty', 'template: ended, recipient: otherparty'),
    code: 'RULES_BAD_RECIPIENT', line: 14, column: 49, hint: 'did you mean `otherParty`?',
  },
  { name: 'a TTL that is not ISO 8601', source: HEADER.replace('P30D', '30 days'), code: 'RULES_BAD_DURATION', line: 4, column: 18 },
  { name: 'a TTL in months', source: HEADER.replace('P30D', 'P1M'), code: 'RULES_BAD_DURATION', line: 4, column: 18 },
  { name: 'a rule id with spaces', source: guard('    - id: Source Module\n      require: "true"\n      message: m\n'), code: 'RULES_BAD_ID', line: 17, column: 11 },
  {
    name: 'two rules with one id',
    source: guard('    - { id: same, require: "true", message: m }\n    - { id: same, require: "true", message: m }\n'),
    code: 'RULES_DUPLICATE_ID', line: 18, column: 13,
  },
  { name: 'an expression cut short', source: guard('    - id: a\n      message: m\n      require: source.id ==\n'), code: 'RULES_CEL_SYNTAX', line: 19, column: 28 },
  {
    name: 'a misspelt fact',
    source: guard('    - id: a\n      message: m\n      require: sorce.company.moduleActive\n'),
    code: 'RULES_CEL_UNKNOWN_NAME', line: 19, column: 16, hint: 'did you mean `source`?',
  },
  {
    name: 'a misspelt field in a double-quoted string with escapes',
    source: guard('    - id: a\n      message: m\n      require: "source.name == \\"x\\" && connection.offerAcess"\n'),
    code: 'RULES_CEL_UNKNOWN_NAME', line: 19, column: 52, hint: 'did you mean `offerAccess`?',
  },
  {
    name: 'a misspelt fact after doubled quotes in a single-quoted string',
    source: guard("    - id: a\n      message: m\n      require: 'source.name == ''x'' && sourc.company.moduleActive'\n"),
    code: 'RULES_CEL_UNKNOWN_NAME', line: 19, column: 41,
  },
  {
    name: 'a type error on the second line of a literal block',
    source: guard('    - id: a\n      message: m\n      require: |\n        source.company.moduleActive &&\n          target.name > 3\n'),
    code: 'RULES_CEL_TYPE', line: 21, column: 11,
  },
  {
    name: 'a misspelt field on the continuation line of a plain scalar',
    source: guard('    - id: a\n      message: m\n      require: source.company.moduleActive\n        && connection.hasCallbak\n'),
    code: 'RULES_CEL_UNKNOWN_NAME', line: 20, column: 23, hint: 'did you mean `hasCallback`?',
  },
  {
    name: 'a misspelt field in a folded block',
    source: guard('    - id: a\n      message: m\n      require: >\n        source.company.moduleActive\n        && connection.hasCallbak\n'),
    code: 'RULES_CEL_UNKNOWN_NAME', line: 21, column: 23,
  },
  { name: 'a guard that is not a bool', source: guard('    - id: a\n      message: m\n      require: source.name\n'), code: 'RULES_CEL_TYPE', line: 19, column: 16 },
  {
    name: 'a misspelt fact inside a message interpolation',
    source: guard('    - id: a\n      require: "true"\n      message: hello {{ target.nam }}\n'),
    code: 'RULES_CEL_UNKNOWN_NAME', line: 19, column: 32, hint: 'did you mean `name`?',
  },
  {
    name: 'an unterminated interpolation',
    source: guard('    - id: a\n      require: "true"\n      message: "hello {{ target.name"\n'),
    code: 'RULES_BAD_INTERPOLATION', line: 19, column: 23,
  },
  { name: 'a regular expression', source: guard('    - id: a\n      message: m\n      require: source.name.matches("^A")\n'), code: 'RULES_CEL_FORBIDDEN', line: 19, column: 16 },
  {
    name: 'an expression nested too deeply',
    source: guard(`    - id: a\n      message: m\n      require: ${'('.repeat(30)}true${')'.repeat(30)}\n`),
    code: 'RULES_LIMIT', line: 19, column: 40,
  },
  {
    name: 'an expression too long',
    source: guard(`    - id: a\n      message: m\n      require: ${Array.from({ length: 100 }, () => 'source.company.moduleActive').join(' && ')}\n`),
    code: 'RULES_LIMIT', line: 19, column: 16,
  },
  { name: 'a share above 100 %', source: `${HEADER}payouts:\n  - id: p\n    when: true\n    shareBasisPoints: 12000\n`, code: 'RULES_BAD_VALUE', line: 18, column: 23 },
  {
    name: 'a share computed as a double',
    source: `${HEADER}payouts:\n  - id: p\n    when: true\n    shareBasisPoints: item.amountMinor / 2.0\n`,
    code: 'RULES_CEL_TYPE', line: 18, column: 23,
  },
  {
    name: 'a payout rule reading a guard-only fact',
    source: `${HEADER}payouts:\n  - id: p\n    when: actor.role == "source"\n    shareBasisPoints: 10000\n`,
    code: 'RULES_CEL_UNKNOWN_NAME', line: 17, column: 11,
  },
];

describe('a broken rule set is refused with an error pointing at the offending place', () => {
  test.each(cases)('$name → $code at $line:$column', ({ source, code, line, column, hint }) => {
    const errors = errorsOf(source);
    expect(errors.map((e) => ({ code: e.code, line: e.line, column: e.column }))).toContainEqual({ code, line, column });
    const error = errors.find((e) => e.code === code && e.line === line && e.column === column)!;
    if (hint) expect(error.hint).toBe(hint);
    expect(error.file).toBe('broken.rules.yaml');
    expect(error.excerpt).toContain(`${line} | `);
  });
});

describe('a party can always block and leave', () => {
  test.for(['connection.block', 'connection.end'])('a guard on %s is refused at its line and column, with a hint', (event) => {
    const source = guardsFor(event, '    - { id: never, require: "false", message: nobody leaves }\n');
    const lines = source.split('\n');
    const line = lines.findIndex((l) => l.trim() === `${event}:`) + 1;
    const [error] = errorsOf(source);
    expect(error).toMatchObject({ code: 'RULES_UNGUARDABLE_EVENT', line, column: 3, message: `\`${event}\` cannot be guarded` });
    expect(error!.hint).toMatch(/can always (block|end)/);
  });
});

describe('error reports', () => {
  test('every problem of a rule set is reported in one load, in file order', () => {
    const source = HEADER.replace('P30D', 'P1M').replace('template: declined', 'template: decline') +
      'guards:\n  connection.invite:\n    - id: a\n      require: sourc.id == ""\n      mesage: m\n';
    const errors = errorsOf(source);
    expect(errors.map((e) => e.code)).toEqual([
      'RULES_BAD_DURATION', 'RULES_BAD_TEMPLATE', 'RULES_MISSING_FIELD', 'RULES_CEL_UNKNOWN_NAME', 'RULES_UNKNOWN_FIELD',
    ]);
  });

  test('the excerpt shows the offending line with a caret under the range', () => {
    const [error] = errorsOf(guard('    - id: a\n      message: m\n      require: connection.offerAcess\n'));
    expect(formatRulesError(error!)).toBe(
      'broken.rules.yaml:19:27 RULES_CEL_UNKNOWN_NAME unknown field `offerAcess` on Connection\n' +
        '   |\n' +
        '19 |       require: connection.offerAcess\n' +
        '   |                           ^^^^^^^^^^\n' +
        '  hint: did you mean `offerAccess`?',
    );
  });

  test('an error names the path of the offending value in the document', () => {
    const [error] = errorsOf(guard('    - id: a\n      message: m\n      require: source.name\n'));
    expect(error!.path).toBe('guards.connection.invite[0].require');
  });

  test('loading never throws, even for input that is not text', () => {
    const result = loadRuleSet(42 as unknown as string);
    expect(result.ok).toBe(false);
  });
});
