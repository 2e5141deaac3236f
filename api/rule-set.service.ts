/**
 * Publishing rule sets: the one path used by `POST /v1/rule-sets`, `ccx rules publish` and boot
 * (CCX_RULES is published when no rule set is active yet). Workflows never publish: they are
 * given the compiled rule set, or read the active one.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { getActiveCompiledRuleSet, publishRuleSet } from '../db/rule-set.repository.ts';
import type { Database } from '../db/schema.ts';
import { formatRulesError, type RulesError } from '../rules/errors.ts';
import { loadRuleSet, type RulesWarning } from '../rules/loader.ts';
import type { CompiledRuleSet } from '../rules/model.ts';

export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../rules/default.rules.yaml', import.meta.url));

export class RuleSetRejectedError extends Error {
  constructor(readonly errors: RulesError[]) {
    super(`rule set has ${errors.length} error(s):\n${errors.map(formatRulesError).join('\n')}`);
  }
}

export interface Published {
  ruleSet: CompiledRuleSet;
  /** Not errors: the rule set is published (e.g. a mailing event it does not route sends no mail). */
  warnings: RulesWarning[];
}

/** Checks, stores and activates a rule set. */
export async function publishRuleSetSource(db: Kysely<Database>, source: string, file: string): Promise<Published> {
  const loaded = loadRuleSet(source, { file });
  if (!loaded.ok) throw new RuleSetRejectedError(loaded.errors);
  await publishRuleSet(db, { version: loaded.ruleSet.hash, name: loaded.ruleSet.name, source, compiled: loaded.ruleSet });
  return { ruleSet: loaded.ruleSet, warnings: loaded.warnings };
}

/** At boot: the active rule set; publishes `file` (CCX_RULES or the default) first when there is none. */
export async function ensureActiveRuleSet(db: Kysely<Database>, file = process.env.CCX_RULES || DEFAULT_RULES_FILE): Promise<CompiledRuleSet> {
  const active = await getActiveCompiledRuleSet(db);
  if (active) return active;
  return (await publishRuleSetSource(db, await readFile(file, 'utf8'), file)).ruleSet;
}
