/**
 * The active rule set for the API's pre-checks, with its evaluator cached by version: each request
 * asks Postgres only which version is active (a publish takes effect at once, in every API
 * process), and CEL is parsed once per version.
 */
import type { Kysely } from 'kysely';
import { getActiveCompiledRuleSet, getActiveRuleSetVersion } from '../db/rule-set.repository.ts';
import { ErrorCode } from '../domain/errors.ts';
import { createEvaluator, type RulesEvaluator } from '../rules/evaluator.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import type { Database } from '../db/schema.ts';
import { ApiError } from './errors.ts';

export interface ActiveRules {
  ruleSet: CompiledRuleSet;
  evaluator: RulesEvaluator;
}

const cache = new Map<string, ActiveRules>();

export async function activeRules(db: Kysely<Database>): Promise<ActiveRules> {
  const version = await getActiveRuleSetVersion(db);
  const cached = version && cache.get(version);
  if (cached) return cached;
  // Boot publishes one (api/rule-set.service.ts), so none active means a database nobody set up.
  const ruleSet = await getActiveCompiledRuleSet(db);
  if (!ruleSet) throw new ApiError(ErrorCode.UNAVAILABLE, 'no rule set is active: publish one (POST /v1/rule-sets)');
  const entry = { ruleSet, evaluator: createEvaluator(ruleSet) };
  cache.set(ruleSet.hash, entry);
  return entry;
}
