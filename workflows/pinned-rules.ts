/**
 * The rule set an entity workflow is pinned to, with its evaluator (built once per run: CEL is
 * parsed once). Shared by every entity workflow.
 */
import { ErrorCode, type Refusal } from '../domain/errors.ts';
import { tryCreateEvaluator, type RulesEvaluator } from '../rules/evaluator.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { refusalFailure } from './errors.ts';

/** The pinned rule set and its evaluator (built once per run: CEL is parsed once). */
export interface PinnedRules {
  ruleSet: CompiledRuleSet;
  evaluator: RulesEvaluator;
}

/** Builds the evaluator for a rule set; an unusable one is a refusal, never a thrown error. */
export function pinRules(ruleSet: CompiledRuleSet): PinnedRules | Refusal {
  const made = tryCreateEvaluator(ruleSet);
  if (!made.ok) return { code: ErrorCode.INVALID_REQUEST, message: `rule set ${ruleSet?.hash} is not usable: ${made.error}` };
  return { ruleSet, evaluator: made.evaluator };
}

export const isRefusal = (value: PinnedRules | Refusal): value is Refusal => 'code' in value;

/** The evaluator of a rule set; an unusable one fails the update or the run, never the workflow task. */
export function pinned(ruleSet: CompiledRuleSet): PinnedRules {
  const made = pinRules(ruleSet);
  if (isRefusal(made)) throw refusalFailure(made);
  return made;
}
