/**
 * The rule set a run is pinned to, as its input names it. The API names a published version
 * (`ruleSetVersion`): the run reads it with a local activity — one marker in history, and the
 * Temporal UI opens on a few lines of input instead of the whole compiled rule set. In full
 * (`ruleSet`): callers going to Temporal directly with a set of their own, continued runs, and runs
 * started before versions were passed. Neither: the active one, read at start.
 */
import { ActivityFailure, ApplicationFailure, proxyLocalActivities } from '@temporalio/workflow';
import type { ConnectionActivities } from '../activities/connection.activities.ts';
import { ErrorCode } from '../domain/errors.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { activityPresets } from '../temporal.config.ts';
import { refusalFailure } from './errors.ts';

/** Named in the Temporal UI's event list by the version it reads. */
const lookup = (version: string) =>
  proxyLocalActivities<Pick<ConnectionActivities, 'loadRuleSetVersion'>>({ ...activityPresets.database, summary: `read rule set ${version.slice(0, 12)}` });

/** A version is the rule set's sha256, in hex. */
export const RULE_SET_VERSION = /^[0-9a-f]{64}$/;

export function ruleSetInputProblem(input: { ruleSet?: unknown; ruleSetVersion?: unknown }): string | null {
  if (input.ruleSetVersion === undefined) return null;
  if (input.ruleSet !== undefined) return 'give ruleSet or ruleSetVersion, not both';
  return typeof input.ruleSetVersion === 'string' && RULE_SET_VERSION.test(input.ruleSetVersion) ? null : 'ruleSetVersion must be a rule set version (64 hex digits)';
}

export async function inputRuleSet(
  input: { ruleSet?: CompiledRuleSet; ruleSetVersion?: string },
  loadActive: () => Promise<CompiledRuleSet>,
): Promise<CompiledRuleSet> {
  if (input.ruleSet) return input.ruleSet;
  if (input.ruleSetVersion === undefined) return loadActive();
  try {
    return await lookup(input.ruleSetVersion).loadRuleSetVersion({ version: input.ruleSetVersion });
  } catch (err) {
    // A version nobody published fails the run visibly, like any other bad input.
    // (A local activity's failure may arrive as the ApplicationFailure itself, not wrapped.)
    const failure = err instanceof ActivityFailure ? err.cause : err;
    if (failure instanceof ApplicationFailure && failure.type === ErrorCode.NOT_FOUND) {
      throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: failure.message });
    }
    throw err;
  }
}
