/**
 * `explain`: every rule's verdict and why — the expression, its outcome, and the value of each
 * fact it reads — for `ccx rules explain` and for product owners testing a rule set. Not on the
 * hot path: it may parse the fact paths it shows.
 */
import type { ASTNode, Environment } from '@marcbachmann/cel-js';
import type { GuardVerdict, PayoutShare } from './verdicts.ts';
import { formatValue } from './template.ts';

export interface RuleVerdict {
  rule: string;
  expression: string;
  /** Guards: passed / refused / error. Payouts: applies / shadowed (an earlier rule applied) / skipped / error. */
  outcome: 'passed' | 'refused' | 'error' | 'applies' | 'shadowed' | 'skipped';
  why: string;
  /** Each fact path the expression reads (`source.company.moduleActive`) and its value. */
  facts: Record<string, string>;
}

type Item =
  | { id: string; source: string; verdict: GuardVerdict }
  | { id: string; source: string; share: PayoutShare | null; shareSource: string };

export function explainRules(env: Environment, items: Item[], ctx: Record<string, unknown>): RuleVerdict[] {
  let applied = false;
  return items.map((item) => {
    const sources = 'verdict' in item ? [item.source] : [item.source, item.shareSource];
    const facts = factValues(env, sources, ctx);
    const base = { rule: item.id, expression: item.source, facts };
    if ('verdict' in item) {
      const v = item.verdict;
      if (v.allowed) return { ...base, outcome: 'passed' as const, why: 'require is true' };
      if (v.failure === 'error') return { ...base, outcome: 'error' as const, why: v.message };
      return { ...base, outcome: 'refused' as const, why: `require is false: ${v.code} "${v.message}"` };
    }
    const s = item.share;
    if (s === null) return { ...base, outcome: 'skipped' as const, why: 'when is false' };
    if (!s.ok) return { ...base, outcome: 'error' as const, why: s.error };
    const why = `when is true: ${s.shareBasisPoints} basis points (${item.shareSource}) = ${s.shareMinor} minor units`;
    const outcome = applied ? ('shadowed' as const) : ('applies' as const);
    applied = true;
    return { ...base, outcome, why: outcome === 'shadowed' ? `${why}, but an earlier rule applied` : why };
  });
}

function factValues(env: Environment, sources: string[], ctx: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of sources) {
    let paths: string[] = [];
    try {
      paths = factPaths(env.parse(source).ast);
    } catch {
      continue;
    }
    for (const path of paths) {
      if (path in out) continue;
      try {
        const value: unknown = env.parse(path)(ctx);
        out[path] = typeof value === 'string' ? JSON.stringify(value) : formatValue(value);
      } catch {
        // A comprehension variable (`i.mandatory` in `items.exists(i, …)`) has no value outside.
      }
    }
  }
  return out;
}

/** The maximal `a.b.c` chains of an expression, in order of appearance. */
function factPaths(ast: ASTNode): string[] {
  const found: string[] = [];
  const chain = (n: ASTNode): string | null => {
    if (n.op === 'id') return n.args;
    if (n.op !== '.') return null;
    const left = chain(n.args[0]);
    return left === null ? null : `${left}.${n.args[1]}`;
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object' || !('op' in node)) return;
    const n = node as ASTNode;
    const path = n.op === '.' ? chain(n) : null;
    if (path !== null) {
      if (!found.includes(path)) found.push(path);
      return;
    }
    if (typeof n.args === 'object') visit(n.args);
  };
  visit(ast);
  return found;
}
