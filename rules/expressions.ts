/**
 * Type-checking one CEL expression of a rule set against the facts of its event. Returns
 * problems with offsets *inside the expression*; the loader maps them into the YAML file.
 * Never throws: whatever cel-js throws on hostile input becomes a problem.
 */
import { callsIn, checkerFor, fieldsOf, FORBIDDEN_FUNCTIONS } from './cel-env.ts';
import { didYouMean, type RulesErrorCode } from './errors.ts';
import { variablesOf, type FactScope } from './facts.ts';
import { LIMITS } from './model.ts';

/** What the expression must evaluate to: a guard or `when` is a bool, a share an int. */
export type Expectation = 'bool' | 'int' | 'text';
const TEXT_TYPES = new Set(['string', 'int', 'uint', 'double', 'bool']);

export interface ExpressionProblem {
  code: RulesErrorCode;
  message: string;
  start: number;
  end: number;
  hint?: string;
}

interface CelErrorLike {
  name?: string;
  code?: string;
  summary?: string;
  message?: string;
  range?: { start: number; end: number };
  node?: { op?: string; args?: unknown };
}

export function checkExpression(expr: string, scope: FactScope, expect: Expectation): ExpressionProblem[] {
  if (expr.trim() === '') return [{ code: 'RULES_CEL_SYNTAX', message: 'empty expression', start: 0, end: 0 }];
  if (expr.length > LIMITS.expressionLength) {
    return [{
      code: 'RULES_LIMIT', start: 0, end: expr.length,
      message: `expression is ${expr.length} characters long; the limit is ${LIMITS.expressionLength}`,
      hint: 'split the rule into several rules',
    }];
  }
  const env = checkerFor(scope);
  try {
    const parsed = env.parse(expr);
    const forbidden = callsIn(parsed.ast).filter((c) => FORBIDDEN_FUNCTIONS.has(c.name));
    if (forbidden.length > 0) {
      return forbidden.map((c) => ({
        code: 'RULES_CEL_FORBIDDEN' as const, start: c.start, end: c.end,
        message: `function \`${c.name}\` is not available in rules`, hint: FORBIDDEN_FUNCTIONS.get(c.name),
      }));
    }
    const result = parsed.check();
    if (!result.valid) return [fromCelError(result.error as CelErrorLike, expr, scope)];
    return resultTypeProblems(result.type ?? 'dyn', expect, expr);
  } catch (error) {
    return [fromCelError(error as CelErrorLike, expr, scope)];
  }
}

function resultTypeProblems(type: string, expect: Expectation, expr: string): ExpressionProblem[] {
  const ok = expect === 'text' ? TEXT_TYPES.has(type) : type === expect;
  if (ok) return [];
  const wanted = { bool: 'a bool (true or false)', int: 'an int', text: 'a string, number or bool' }[expect];
  const hint = expect === 'int' && type === 'double' ? 'use int(...) to turn a double into an int' : undefined;
  return [{ code: 'RULES_CEL_TYPE', start: 0, end: expr.length, message: `expression must be ${wanted}, but it is ${type}`, hint }];
}

function fromCelError(error: CelErrorLike, expr: string, scope: FactScope): ExpressionProblem {
  const start = clamp(error.range?.start ?? 0, expr);
  const end = clamp(Math.max(error.range?.end ?? start, start), expr);
  const summary = error.summary ?? error.message ?? String(error);
  if (error.name === 'ParseError') {
    if (error.code === 'limit_exceeded') {
      return { code: 'RULES_LIMIT', start, end, message: `expression too complex: ${summary}`, hint: 'nest less deeply or split the rule' };
    }
    return { code: 'RULES_CEL_SYNTAX', start, end, message: summary };
  }
  if (error.name === 'TypeError') {
    if (error.code === 'unknown_variable' && error.node?.op === 'id') {
      const name = String(error.node.args);
      const known = Object.keys(variablesOf(scope));
      return { code: 'RULES_CEL_UNKNOWN_NAME', start, end, message: `unknown fact \`${name}\``, hint: didYouMean(name, known) };
    }
    if (error.code === 'no_such_key' && Array.isArray(error.node?.args)) {
      const [left, key] = error.node.args as [{ checkedType?: { name?: string } }, unknown];
      const typeName = left?.checkedType?.name ?? '';
      const fields = fieldsOf(typeName);
      const field = typeof key === 'string' ? key : summary.replace(/^No such key: /, '');
      return {
        code: 'RULES_CEL_UNKNOWN_NAME', start, end, message: `unknown field \`${field}\` on ${typeName || 'this value'}`,
        ...(fields.length ? { hint: didYouMean(field, fields) } : {}),
      };
    }
    return { code: 'RULES_CEL_TYPE', start, end, message: summary };
  }
  // Anything else (a RangeError from pathological nesting, …) must still be a rules error.
  return { code: 'RULES_CEL_SYNTAX', start, end, message: `expression cannot be read: ${summary}` };
}

const clamp = (n: number, expr: string) => Math.max(0, Math.min(n, expr.length));
