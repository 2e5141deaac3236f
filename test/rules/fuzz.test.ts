/**
 * Random and mutated rule sets fed to the loader: it only ever returns a compiled rule set or
 * rules errors with a code and a position — never throws, never hangs. What loads also
 * evaluates without throwing, whatever the facts.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, test } from 'vitest';
import { RULES_ERROR_CODES } from '../../rules/errors.ts';
import { createEvaluator } from '../../rules/evaluator.ts';
import { GUARD_EVENTS } from '../../rules/facts.ts';
import { loadRuleSet } from '../../rules/loader.ts';
import { command, defaultRulesSource, invitation, payoutFacts } from './support.ts';

const MAX_LOAD_MS = 1000;
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

/** Loads, and checks the only two outcomes a load may have. */
function loadsCleanly(source: string): void {
  const started = performance.now();
  let result: ReturnType<typeof loadRuleSet>;
  try {
    result = loadRuleSet(source, { file: 'fuzz.yaml' });
  } catch (error) {
    throw new Error(`the loader threw for ${JSON.stringify(source.slice(0, 300))}: ${String(error)}`);
  }
  expect(performance.now() - started).toBeLessThan(MAX_LOAD_MS);
  if (!result.ok) {
    expect(result.errors.length).toBeGreaterThan(0);
    for (const e of result.errors) {
      expect(RULES_ERROR_CODES).toContain(e.code);
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.column).toBeGreaterThanOrEqual(1);
      expect(e.excerpt).toContain('^');
      // The loader's last-resort catch turns its own defects into this message: there must be none.
      expect(e.message).not.toMatch(/^the rule set could not be read/);
    }
    return;
  }
  const rules = createEvaluator(JSON.parse(JSON.stringify(result.ruleSet)));
  for (const event of GUARD_EVENTS) expect(() => rules.checkGuards(event, (event === 'connection.invite' ? invitation() : command('target')) as never)).not.toThrow();
  expect(() => rules.payoutShare(payoutFacts(1234))).not.toThrow();
}

const base = defaultRulesSource();
const significant = [':', '-', ' ', '\n', '  ', '{', '}', '[', ']', '"', "'", '|', '>', '#', '&a', '*a', '!', '{{', '}}', '(', ')', '.', '&&', '||', '?', ',', '\t', '%', '@', '`', 'ü', '\\'];

/** One edit of the default rule set: delete, insert, duplicate or swap lines, break indentation. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...significant), fc.string({ maxLength: 12 })) }),
  fc.record({ kind: fc.constant('duplicateLine' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swapLines' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function apply(source: string, m: Mutation): string {
  const lines = source.split('\n');
  const line = (n: number) => n % lines.length;
  switch (m.kind) {
    case 'delete': {
      const at = m.at % (source.length + 1);
      return source.slice(0, at) + source.slice(at + m.length);
    }
    case 'insert': {
      const at = m.at % (source.length + 1);
      return source.slice(0, at) + m.text + source.slice(at);
    }
    case 'duplicateLine':
      lines.splice(line(m.at), 0, lines[line(m.at)]!);
      return lines.join('\n');
    case 'swapLines': {
      const [a, b] = [line(m.at), line(m.other)];
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
    case 'indent': {
      const i = line(m.at);
      lines[i] = m.by >= 0 ? ' '.repeat(m.by) + lines[i] : lines[i]!.slice(-m.by);
      return lines.join('\n');
    }
  }
}

describe('the loader under random input', () => {
  test('random text never crashes the loader', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), loadsCleanly), { numRuns: 300, seed });
  });

  test('random YAML documents are refused or loaded, never crash', () => {
    fc.assert(fc.property(fc.anything({ maxDepth: 3 }), (value) => loadsCleanly(stringify(value))), { numRuns: 200, seed });
  });

  test('mutations of the default rule set are refused or loaded, never crash', () => {
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (ms) => loadsCleanly(ms.reduce(apply, base))), {
      numRuns: 400,
      seed,
    });
  });

  test('random CEL in a guard is refused or loaded, never crashes', () => {
    const cel = fc.array(fc.constantFrom('source', 'target', '.', 'company', 'id', 'name', 'moduleActive', ' == ', ' && ', '!', '(', ')', '"x"', '1', 'size(', '[', ']', '{{', ' ? ', ' : ', 'has(', '.exists(i, ', 'i'), { maxLength: 30 });
    fc.assert(
      fc.property(cel, (parts) => loadsCleanly(base.replace('require: source.company.moduleActive\n', `require: ${JSON.stringify(parts.join(''))}\n`))),
      { numRuns: 300, seed },
    );
  });

  test('the evaluator never throws, whatever the facts', () => {
    const rules = createEvaluator((loadRuleSet(base) as Extract<ReturnType<typeof loadRuleSet>, { ok: true }>).ruleSet);
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), fc.anything({ maxDepth: 3 }), (source, target) => {
        rules.checkGuards('connection.invite', { source, target, connection: {} } as never);
        rules.explain('connection.invite', { source, target } as never);
        rules.payoutShare({ item: source } as never);
      }),
      { numRuns: 300, seed },
    );
  });
});
