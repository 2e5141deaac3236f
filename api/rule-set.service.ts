/**
 * Publishing rule sets: the one path used by `POST /v1/rule-sets`, `ccx rules publish` and boot
 * (CCX_RULES is published when no rule set is active yet). Workflows never publish: they are
 * given the compiled rule set, or read the active one.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { appendAuditEntry } from '../db/audit.repository.ts';
import { getCompiledRuleSet, getPreview, pinnedTo, PREVIEW_RETENTION_DAYS } from '../db/rule-set-preview.repository.ts';
import { activateRuleSet, getActiveCompiledRuleSet, getActiveRuleSetVersion, getRuleSet, publishRuleSet } from '../db/rule-set.repository.ts';
import type { Database } from '../db/schema.ts';
import { SYSTEM_ACTOR, type AuditActor } from '../domain/audit.ts';
import { formatRulesError, type RulesError } from '../rules/errors.ts';
import { diffRuleSets, type RuleSetChange } from '../rules/diff.ts';
import { loadPublishableRuleSet, type RulesWarning } from '../rules/loader.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { upgradeRulesUpdate } from '../workflows/messages.ts';

export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../rules/default.rules.yaml', import.meta.url));

export class RuleSetRejectedError extends Error {
  constructor(readonly errors: RulesError[]) {
    super(`rule set has ${errors.length} error(s):\n${errors.map(formatRulesError).join('\n')}`);
  }
}

/** A publish named a preview (`?preview=<id>`) that does not exist. */
export class PreviewNotFoundError extends Error {}
/** A publish named a preview of another draft: what would be published is not what was previewed. */
export class PreviewMismatchError extends Error {
  constructor(readonly previewVersion: string, readonly draftVersion: string) {
    super(`the preview is of version ${previewVersion}, this rule set is version ${draftVersion}: preview this text before publishing it`);
  }
}

/** A publish named a preview that no longer tells what publishing does (partial, or made against another active version). */
export class PreviewStaleError extends Error {
  constructor(readonly rule: 'preview-complete' | 'preview-current', message: string) {
    super(message);
  }
}

export interface Published {
  ruleSet: CompiledRuleSet;
  /** Not errors: the rule set is published (e.g. a mailing event it does not route sends no mail). */
  warnings: RulesWarning[];
  /** The version it replaced as the active one (null: none was active). */
  previousVersion: string | null;
  /** What changed against that version, in words (rules/diff.ts); empty when it was already active. */
  changes: RuleSetChange[];
}

/**
 * Checks (with the invariants, rules/invariants.ts), stores and activates a rule set; `actor` is
 * who did it (audit log; the stack itself at boot). With `previewId`, only the exact text that
 * preview was made of is published.
 */
export async function publishRuleSetSource(
  db: Kysely<Database>,
  source: string,
  file: string,
  actor: AuditActor = SYSTEM_ACTOR,
  options: { previewId?: string } = {},
): Promise<Published> {
  const loaded = loadPublishableRuleSet(source, { file });
  if (!loaded.ok) throw new RuleSetRejectedError(loaded.errors);
  if (options.previewId !== undefined) {
    const previewed = await getPreview(db, options.previewId);
    if (previewed === undefined) throw new PreviewNotFoundError(`no preview ${options.previewId} (previews are kept ${PREVIEW_RETENTION_DAYS} days)`);
    if (previewed.version !== loaded.ruleSet.hash) throw new PreviewMismatchError(previewed.version, loaded.ruleSet.hash);
    // What the preview showed must still be what publishing does: complete, and against the version it replaces.
    if (previewed.partial) throw new PreviewStaleError('preview-complete', 'the preview ran out of time and covers only part of the read model: preview again with a larger budget');
    const active = (await getActiveRuleSetVersion(db)) ?? null;
    if (previewed.activeVersion !== active) {
      throw new PreviewStaleError('preview-current', `the preview compared the draft with version ${previewed.activeVersion ?? 'none'}, but ${active ?? 'none'} is active now: preview again`);
    }
  }
  const { previousVersion } = await publishRuleSet(db, { version: loaded.ruleSet.hash, name: loaded.ruleSet.name, source, compiled: loaded.ruleSet }, actor);
  const previous = previousVersion === null ? null : ((await getCompiledRuleSet(db, previousVersion)) ?? null);
  const changes = previousVersion === loaded.ruleSet.hash ? [] : diffRuleSets(previous, loaded.ruleSet);
  return { ruleSet: loaded.ruleSet, warnings: loaded.warnings, previousVersion, changes };
}

/** How many open connections and carts an activation lists by id (the count is always complete). */
export const PINNED_LIST_LIMIT = 1000;

export interface Activated {
  version: string;
  name: string | null;
  previousVersion: string | null;
  /** Open connections and carts still pinned to the version it replaced: activating does not move them, `upgrade` does. */
  pinned: { connections: { count: number; ids: string[] }; carts: { count: number; ids: string[] } };
  changes: RuleSetChange[];
}

/** A published version that is not stored. */
export class RuleSetNotFoundError extends Error {}

/**
 * Makes a published version the active one again — rolling back or forward (`POST
 * /v1/rule-sets/{version}/activate`, `ccx rules activate`). The version must still hold the
 * invariants (a rule set published before they existed may not). Recorded as `rule-set.activated`.
 */
export async function activateRuleSetVersion(db: Kysely<Database>, version: string, actor: AuditActor): Promise<Activated> {
  const stored = await getRuleSet(db, version);
  if (!stored) throw new RuleSetNotFoundError(`no rule set has version ${version}`);
  const loaded = loadPublishableRuleSet(stored.source, { file: `${version.slice(0, 12)}.rules.yaml` });
  if (!loaded.ok) throw new RuleSetRejectedError(loaded.errors);
  const activated = await activateRuleSet(db, version, actor);
  if (!activated) throw new RuleSetNotFoundError(`no rule set has version ${version}`);
  const { previousVersion } = activated;
  const replaced = previousVersion !== null && previousVersion !== version;
  const previous = replaced ? ((await getCompiledRuleSet(db, previousVersion)) ?? null) : null;
  return {
    version,
    name: stored.name,
    previousVersion,
    pinned: replaced ? await pinnedTo(db, previousVersion, PINNED_LIST_LIMIT) : { connections: { count: 0, ids: [] }, carts: { count: 0, ids: [] } },
    changes: replaced ? diffRuleSets(previous, stored.compiled as CompiledRuleSet) : [],
  };
}

/** At boot: the active rule set; publishes `file` (CCX_RULES or the default) first when there is none. */
export async function ensureActiveRuleSet(db: Kysely<Database>, file = process.env.CCX_RULES || DEFAULT_RULES_FILE): Promise<CompiledRuleSet> {
  const active = await getActiveCompiledRuleSet(db);
  if (active) return active;
  return (await publishRuleSetSource(db, await readFile(file, 'utf8'), file)).ruleSet;
}

export interface Upgraded {
  workflowId: string;
  entityId: string;
  ruleSetVersion: string | null;
  version: number;
}

/**
 * Sends `upgradeRules` with the active rule set to one workflow, or to every running connection
 * and cart not on it yet (`ccx rules upgrade`). Each upgrade that succeeded is recorded in the
 * audit log right after it: the update is Temporal's, so the entry follows it rather than sharing
 * a transaction with it (should the entry fail to be written, the command fails loudly there).
 */
export async function upgradeToActiveRuleSet(
  deps: { db: Kysely<Database>; client: Client },
  target: { workflowId: string } | { all: true },
  actor: AuditActor,
  onUpgraded: (u: Upgraded) => void = () => {},
): Promise<{ ruleSet: CompiledRuleSet; upgraded: Upgraded[] }> {
  const ruleSet = await getActiveCompiledRuleSet(deps.db);
  if (!ruleSet) throw new Error('no rule set is active: publish one first');
  const ids: string[] = [];
  if ('all' in target) {
    // Every entity workflow pinned to a rule set: connections and carts.
    const query = `WorkflowType IN ('connectionWorkflow', 'cartWorkflow') AND ExecutionStatus = 'Running' AND RuleSetVersion != '${ruleSet.hash}'`;
    for await (const wf of deps.client.workflow.list({ query })) ids.push(wf.workflowId);
  } else {
    ids.push(target.workflowId);
  }
  const upgraded: Upgraded[] = [];
  for (const workflowId of ids) {
    // Connections and carts name the update alike and answer with their view.
    const view = await deps.client.workflow.getHandle(workflowId).executeUpdate(upgradeRulesUpdate, { args: [{ ruleSet }] });
    const u: Upgraded = { workflowId, entityId: view.id, ruleSetVersion: view.ruleSetVersion, version: view.version };
    await appendAuditEntry(deps.db, actor, { action: 'rule-set.upgraded', subject: workflowId, details: { entityId: u.entityId, ruleSetVersion: u.ruleSetVersion, version: u.version } });
    upgraded.push(u);
    onUpgraded(u);
  }
  return { ruleSet, upgraded };
}
