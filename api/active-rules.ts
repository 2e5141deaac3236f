/**
 * The active rule set for the API's pre-checks, with its evaluator cached by version: each request
 * asks Postgres only which version is active (a publish takes effect at once, in every API
 * process), and CEL is parsed once per version.
 */
import type { Kysely } from 'kysely';
import { getActiveRuleSetVersion } from '../db/rule-set.repository.ts';
import { createEvaluator, type RulesEvaluator } from '../rules/evaluator.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import type { Database } from '../db/schema.ts';
import { ensureActiveRuleSet } from '../runtime/rule-sets.ts';

export interface ActiveRules {
  ruleSet: CompiledRuleSet;
  evaluator: RulesEvaluator;
}

const cache = new Map<string, ActiveRules>();

export async function activeRules(db: Kysely<Database>): Promise<ActiveRules> {
  const version = await getActiveRuleSetVersion(db);
  const cached = version && cache.get(version);
  if (cached) return cached;
  const ruleSet = await ensureActiveRuleSet(db);
  const entry = { ruleSet, evaluator: createEvaluator(ruleSet) };
  cache.set(ruleSet.hash, entry);
  return entry;
}
