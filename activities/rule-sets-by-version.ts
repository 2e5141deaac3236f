/**
 * Rule sets by version, kept per process: a version is the hash of its text, so what it names
 * never changes. Read from the published ones; a set met some other way (a connection's answer in
 * full) can be remembered under its own hash. Bounded, in case of very many.
 */
import type { Kysely } from 'kysely';
import { getCompiledRuleSet } from '../db/rule-set.repository.ts';
import type { Database } from '../db/schema.ts';
import type { CompiledRuleSet } from '../rules/model.ts';

export function ruleSetsByVersion(db: Kysely<Database>, max = 64) {
  const known = new Map<string, CompiledRuleSet>();
  const remember = (ruleSet: CompiledRuleSet): void => {
    if (known.size >= max) known.clear();
    known.set(ruleSet.hash, ruleSet);
  };
  return {
    remember,
    /** The rule set of `version`, or undefined when it was never published (and not remembered). */
    async get(version: string): Promise<CompiledRuleSet | undefined> {
      const hit = known.get(version);
      if (hit) return hit;
      const ruleSet = await getCompiledRuleSet(db, version);
      if (ruleSet) remember(ruleSet);
      return ruleSet;
    },
  };
}
