import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createEvaluator, RuleSetInvalidError, tryCreateEvaluator } from '../../rules/evaluator.ts';
import { loadRuleSet } from '../../rules/loader.ts';
import { compile, defaultRulesSource, HEADER, invitation } from './support.ts';

describe('loading a rule set', () => {
  test('the version is the sha256 of the exact source text', () => {
    const source = defaultRulesSource();
    expect(compile(source).hash).toBe(createHash('sha256').update(source, 'utf8').digest('hex'));
  });

  test('a changed comment is a new version', () => {
    expect(compile(`${HEADER}# v2\n`).hash).not.toBe(compile(HEADER).hash);
  });

  test('the compiled rule set is JSON: it survives a trip through workflow history unchanged', () => {
    const compiled = compile(defaultRulesSource());
    const tripped = JSON.parse(JSON.stringify(compiled));
    expect(tripped).toEqual(compiled);
    expect(createEvaluator(tripped).checkGuards('connection.invite', invitation())).toEqual({ allowed: true });
  });

  test('name and description are kept', () => {
    expect(compile(defaultRulesSource())).toMatchObject({ format: 1, name: 'default', description: expect.stringContaining('30 days') });
  });

  test('a rule set given as something other than a map is refused', () => {
    const result = loadRuleSet('- a\n- b\n');
    expect(result.ok ? [] : result.errors.map((e) => e.code)).toEqual(['RULES_BAD_TYPE']);
  });

  test('text PostgreSQL cannot store is refused with its line, raw or escaped', () => {
    const source = defaultRulesSource();
    for (const [bad, line] of [
      [source.replace('name: default', 'name: "de\\0fault"'), 5],
      [source.replace('name: default', 'name: "de\\ud800fault"'), 5],
      [`${source}# a comment with a NUL \u0000\n`, source.split('\n').length],
    ] as const) {
      const result = loadRuleSet(bad);
      expect(result.ok).toBe(false);
      expect(result.ok ? [] : result.errors.map((e) => [e.code, e.line])).toEqual([['RULES_BAD_VALUE', line]]);
    }
  });

  test('two YAML documents in one file are refused', () => {
    const result = loadRuleSet(`${HEADER}---\n${HEADER}`);
    expect(result.ok ? [] : result.errors.map((e) => e.code)).toContain('RULES_YAML_SYNTAX');
  });
});

describe('creating an evaluator from workflow input', () => {
  test('a compiled rule set of an unknown shape is refused with a clear error', () => {
    expect(() => createEvaluator({ format: 2 } as never)).toThrow(RuleSetInvalidError);
  });

  test('tryCreateEvaluator reports instead of throwing, for workflow code', () => {
    const broken = { ...compile(HEADER), guards: { 'connection.invite': [{ id: 'g', require: 'source.id ==', message: 'm', code: 'RULE_REJECTED' }] } };
    const result = tryCreateEvaluator(broken as never);
    expect(result).toMatchObject({ ok: false, error: expect.stringContaining('guard g') });
  });

  test('a guard naming a code outside the allow-list is refused', () => {
    const forged = { ...compile(HEADER), guards: { 'connection.invite': [{ id: 'g', require: 'true', message: 'm', code: 'UNAUTHENTICATED' }] } };
    expect(tryCreateEvaluator(forged as never)).toMatchObject({ ok: false });
  });
});
