/**
 * The two cel-js environments of the rules language. The *checking* environment declares every
 * fact with its type, so the loader rejects `target.nmae` or `cart.items > 3` before a rule set
 * is ever published. The *runtime* environment declares the same names as `dyn`: the loader has
 * already proven the types, and evaluating plain objects untyped is what makes cel-js fastest
 * (typed message fields convert every fact object on each evaluation). Pure: no Node built-ins.
 */
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { FACT_TYPES, GUARD_EVENTS, variablesOf, type FactScope, type FactTypeName } from './facts.ts';
import { LIMITS } from './model.ts';

const celLimits = { maxDepth: LIMITS.expressionDepth, maxAstNodes: LIMITS.astNodes, maxListElements: 100, maxMapEntries: 100 };

/**
 * Functions a rule may not call. `matches` runs a regular expression, and a backtracking one can
 * stall a workflow task; `startsWith`, `endsWith` and `contains` cover what policies need.
 */
export const FORBIDDEN_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['matches', 'regular expressions are not available in rules: use startsWith(), endsWith() or contains()'],
]);

let typedBase: Environment | undefined;
const checkers = new Map<FactScope, Environment>();

/** The typed environment of one scope (an event's guards and messages, or the payout rules). */
export function checkerFor(scope: FactScope): Environment {
  let env = checkers.get(scope);
  if (env) return env;
  if (!typedBase) {
    typedBase = new Environment({ limits: celLimits });
    for (const [name, fields] of Object.entries(FACT_TYPES)) typedBase.registerType(name, { fields: { ...fields } });
  }
  env = typedBase.clone();
  for (const [name, type] of Object.entries(variablesOf(scope))) env.registerVariable(name, type);
  checkers.set(scope, env);
  return env;
}

/** Every variable name of every scope, for the runtime environment. */
const allVariables = [...new Set([...GUARD_EVENTS, 'payout' as const].flatMap((s) => Object.keys(variablesOf(s))))];

/** The untyped environment evaluators parse with; one per evaluator keeps them independent. */
export function createRuntimeEnv(): Environment {
  const env = new Environment({ limits: celLimits });
  for (const name of allVariables) env.registerVariable(name, 'dyn');
  return env;
}

/** Field names of a declared fact type (for "did you mean" on `No such key`). */
export function fieldsOf(typeName: string): string[] {
  return typeName in FACT_TYPES ? Object.keys(FACT_TYPES[typeName as FactTypeName]) : [];
}

/** Every call in an expression, with its position, to reject forbidden functions. */
export function callsIn(ast: ASTNode): Array<{ name: string; start: number; end: number }> {
  const found: Array<{ name: string; start: number; end: number }> = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (!node || typeof node !== 'object' || !('op' in node)) return;
    const n = node as ASTNode;
    if (n.op === 'call' || n.op === 'rcall') found.push({ name: n.args[0], start: n.range.start, end: n.range.end });
    if (typeof n.args === 'object') visit(n.args);
  };
  visit(ast);
  return found;
}
