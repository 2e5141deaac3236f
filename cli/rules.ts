/**
 * `ccx rules …`: check, explain, preview, diff, publish, activate and upgrade — the same loader,
 * evaluator, preview and publishing code the API uses.
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { openDatabase } from '../db/connect.ts';
import type { AuditActor } from '../domain/audit.ts';
import { formatRulesError } from '../rules/errors.ts';
import { createEvaluator } from '../rules/evaluator.ts';
import { checkFacts } from '../rules/facts-check.ts';
import { GUARD_EVENTS, type GuardEvent } from '../rules/facts.ts';
import { diffRuleSets, type RuleSetChange } from '../rules/diff.ts';
import { loadPublishableRuleSet, loadRuleSet } from '../rules/loader.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import type { Config } from '../runtime/config.ts';
import { previewRuleSet, type PreviewResult } from '../api/rule-set-preview.service.ts';
import {
  activateRuleSetVersion, DEFAULT_RULES_FILE, PreviewMismatchError, PreviewNotFoundError, PreviewStaleError, publishRuleSetSource, RuleSetNotFoundError,
  RuleSetRejectedError, upgradeToActiveRuleSet,
} from '../api/rule-set.service.ts';
import { getActiveCompiledRuleSet } from '../db/rule-set.repository.ts';
import { getCompiledRuleSet } from '../db/rule-set-preview.repository.ts';

const out = (line = '') => process.stdout.write(`${line}\n`);

/** The CLI acts with database access, not a key: the audit log names the operating-system user. */
export function cliActor(): AuditActor {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER; // no passwd entry (some containers)
  }
  return { principal: `cli:${user || 'unknown'}`, keyId: null };
}

export async function rulesCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const option = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest.splice(i, 2)[1] : undefined;
  };
  switch (sub) {
    case 'check':
      return rest[0] ? check(rest[0]) : usage();
    case 'explain': {
      const rulesFile = option('--rules') ?? (process.env.CCX_RULES || DEFAULT_RULES_FILE);
      return rest.length === 2 ? explain(rest[0]!, rest[1]!, rulesFile) : usage();
    }
    case 'publish': {
      const previewId = option('--preview');
      return rest[0] ? publish(config, rest[0], previewId) : usage();
    }
    case 'preview':
      return rest[0] ? preview(config, rest[0]) : usage();
    case 'diff':
      return rest.length === 2 ? diff(config, rest[0]!, rest[1]!) : usage();
    case 'activate':
      return rest[0] ? activate(config, rest[0]) : usage();
    case 'upgrade':
      return rest[0] ? upgrade(config, rest[0]) : usage();
  }
  return usage();
}

function usage(): number {
  console.error(`usage: ccx rules check <file>
       ccx rules explain <event|payout> <facts.json> [--rules <file>]   (events: ${GUARD_EVENTS.join(', ')})
       ccx rules preview <file>                                          (what publishing and upgrading would change; needs DATABASE_URL)
       ccx rules diff <a> <b>                                            (each a file, a published version or \`active\`)
       ccx rules publish <file> [--preview <previewId>]                  (needs DATABASE_URL)
       ccx rules activate <version>                                      (roll back or forward; lists what stays pinned)
       ccx rules upgrade <workflowId | --all>                            (moves running connections and carts to the active rule set)`);
  return 2;
}

/** `forPublishing`: with the invariants every published rule set keeps (what `check` promises). */
async function load(file: string, forPublishing = false): Promise<CompiledRuleSet | undefined> {
  const source = await readFile(file, 'utf8');
  const loaded = forPublishing ? loadPublishableRuleSet(source, { file }) : loadRuleSet(source, { file });
  if (loaded.ok) {
    for (const w of loaded.warnings) out(`warning: ${formatRulesError(w)}\n`);
    return loaded.ruleSet;
  }
  for (const e of loaded.errors) out(formatRulesError(e) + '\n');
  out(`${loaded.errors.length} error(s) in ${file}`);
  return undefined;
}

async function check(file: string): Promise<number> {
  const ruleSet = await load(file, true);
  if (!ruleSet) return 1;
  out(`${file}: ok — rule set "${ruleSet.name}", version ${ruleSet.hash}`);
  return 0;
}

async function explain(scope: string, factsFile: string, rulesFile: string): Promise<number> {
  if (scope !== 'payout' && !GUARD_EVENTS.includes(scope as GuardEvent)) {
    console.error(`unknown event ${scope}; one of: ${GUARD_EVENTS.join(', ')}, payout`);
    return 2;
  }
  const ruleSet = await load(rulesFile);
  if (!ruleSet) return 1;
  const facts: unknown = JSON.parse(await readFile(factsFile, 'utf8'));
  const problems = checkFacts(scope as GuardEvent | 'payout', facts);
  if (problems.length > 0) {
    for (const p of problems) out(`${factsFile}: ${p}`);
    return 1;
  }
  const evaluator = createEvaluator(ruleSet);
  const explanation = scope === 'payout' ? evaluator.explainPayout(facts as never) : evaluator.explain(scope as GuardEvent, facts as never);
  out(`rule set "${ruleSet.name}" (${ruleSet.hash.slice(0, 12)}), ${scope}:`);
  for (const r of explanation.rules) {
    out(`  ${r.outcome.padEnd(8)} ${r.rule}: ${r.expression}`);
    out(`           ${r.why}`);
    for (const [path, value] of Object.entries(r.facts)) out(`           ${path} = ${value}`);
  }
  out(`result: ${JSON.stringify(explanation.result)}`);
  return 0;
}

async function withDatabase<T>(config: Config, run: (db: ReturnType<typeof openDatabase>['db']) => Promise<T>): Promise<T> {
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set (the embedded database belongs to a running `ccx start`: use the HTTP API)');
  const handle = openDatabase(config.databaseUrl);
  try {
    return await run(handle.db);
  } finally {
    await handle.close();
  }
}

const printChanges = (changes: readonly RuleSetChange[]) => {
  if (changes.length === 0) out('  nothing changes');
  for (const c of changes) out(`  - ${c.text}`);
};

async function publish(config: Config, file: string, previewId?: string): Promise<number> {
  return withDatabase(config, async (db) => {
    try {
      const published = await publishRuleSetSource(db, await readFile(file, 'utf8'), file, cliActor(), previewId === undefined ? {} : { previewId });
      for (const w of published.warnings) out(`warning: ${formatRulesError(w)}\n`);
      out(`published "${published.ruleSet.name}" as version ${published.ruleSet.hash}; it is active for new connections`);
      out(`against ${published.previousVersion ?? 'no active version'}:`);
      printChanges(published.changes);
      return 0;
    } catch (err) {
      if (err instanceof PreviewNotFoundError || err instanceof PreviewMismatchError || err instanceof PreviewStaleError) {
        out(`${file}: ${err.message}; nothing was published`);
        return 1;
      }
      if (!(err instanceof RuleSetRejectedError)) throw err;
      for (const e of err.errors) out(formatRulesError(e) + '\n');
      return 1;
    }
  });
}

async function preview(config: Config, file: string): Promise<number> {
  return withDatabase(config, async (db) => {
    let result: PreviewResult;
    try {
      result = await previewRuleSet(db, await readFile(file, 'utf8'), file, { actor: cliActor() });
    } catch (err) {
      if (!(err instanceof RuleSetRejectedError)) throw err;
      for (const e of err.errors) out(formatRulesError(e) + '\n');
      return 1;
    }
    printPreview(result);
    return 0;
  });
}

function printPreview(r: PreviewResult): void {
  out(`preview ${r.previewId} of "${r.name}" (${r.version.slice(0, 12)})${r.partial ? ' — PARTIAL: the time budget ran out' : ''}`);
  out(`read ${r.scanned.connections} open connection(s), ${r.scanned.carts} open cart(s), ${r.scanned.payments} payout row(s) since ${r.payoutWindow.from}`);
  out(`\nagainst the active version ${r.activeVersion?.slice(0, 12) ?? '(none)'}, for new connections and sales:`);
  printChanges(r.changes);
  const verdicts = (title: string, list: PreviewResult['connections']) => {
    out(`\n${title} (after \`ccx rules upgrade\`): ${list.length} change(s)`);
    for (const v of list) {
      const when = v.applies === 'next' ? 'next' : 'already taken, would not be let in today';
      out(`  ${v.id} ${v.event} (${when}): ${v.verdict}${v.verdict === 'refused' ? ` by ${v.rule} (${v.code}): ${v.message}` : ` (was refused by ${v.rule})`}`);
    }
  };
  verdicts('open connections', r.connections);
  verdicts('open carts', r.carts);
  out(`\npayout shares, ${r.payoutWindow.from} – ${r.payoutWindow.to} (minor units):`);
  if (r.payouts.length === 0) out('  no payments in the window');
  for (const p of r.payouts) {
    out(`  ${p.sourceClientId} ← ${p.connectedClientId} ${p.currency}: ${p.currentShareMinor} → ${p.draftShareMinor} (${p.rows} row(s)${p.reversalRows ? `, ${p.reversalRows} refund(s)/chargeback(s) taken back` : ''}${p.refusedRows ? `, ${p.refusedRows} refused by the draft` : ''})`);
  }
  out(`\npublish exactly this text with: ccx rules publish <file> --preview ${r.previewId}`);
}

/** A file when one exists at that path; else `active` or a published version (needs DATABASE_URL). */
async function resolveRuleSet(config: Config, ref: string): Promise<CompiledRuleSet | undefined> {
  const isFile = await readFile(ref, 'utf8').then(() => true, () => false);
  if (isFile) return load(ref);
  const found = await withDatabase(config, (db) => (ref === 'active' ? getActiveCompiledRuleSet(db) : getCompiledRuleSet(db, ref)));
  if (!found) out(`${ref}: neither a file nor a published version`);
  return found;
}

async function diff(config: Config, a: string, b: string): Promise<number> {
  const from = await resolveRuleSet(config, a);
  const to = from && (await resolveRuleSet(config, b));
  if (!from || !to) return 1;
  out(`from "${from.name}" (${from.hash.slice(0, 12)}) to "${to.name}" (${to.hash.slice(0, 12)}):`);
  printChanges(diffRuleSets(from, to));
  return 0;
}

async function activate(config: Config, version: string): Promise<number> {
  return withDatabase(config, async (db) => {
    try {
      const a = await activateRuleSetVersion(db, version, cliActor());
      if (a.previousVersion === version) {
        out(`${version} is already the active version; nothing changed`);
        return 0;
      }
      out(`activated "${a.name}" (${version}); it replaces ${a.previousVersion ?? 'no active version'}:`);
      printChanges(a.changes);
      const list = (what: string, p: { count: number; ids: string[] }) => {
        out(`${p.count} open ${what} still pinned to ${a.previousVersion?.slice(0, 12)}${p.count > p.ids.length ? ` (first ${p.ids.length} listed)` : ''}`);
        for (const id of p.ids) out(`  ${id}`);
      };
      list('connection(s)', a.pinned.connections);
      list('cart(s)', a.pinned.carts);
      out('activating moves none of them: `ccx rules upgrade --all` does');
      return 0;
    } catch (err) {
      if (err instanceof RuleSetNotFoundError) {
        out(err.message);
        return 1;
      }
      if (!(err instanceof RuleSetRejectedError)) throw err;
      for (const e of err.errors) out(formatRulesError(e) + '\n');
      return 1;
    }
  });
}

/** Sends `upgradeRules` with the active rule set to one workflow or to every running one (api/rule-set.service.ts). */
async function upgrade(config: Config, target: string): Promise<number> {
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set');
  const database = openDatabase(config.databaseUrl);
  const connection = await Connection.connect({ ...(config.temporal.connectionOptions as object) }).catch(async (err: unknown) => {
    await database.close();
    throw err;
  });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  try {
    const { ruleSet, upgraded } = await upgradeToActiveRuleSet({ db: database.db, client }, target === '--all' ? { all: true } : { workflowId: target }, cliActor(), (u) =>
      out(`${u.workflowId} (${u.entityId}): now on ${u.ruleSetVersion?.slice(0, 12)}, version ${u.version}`),
    );
    out(`${upgraded.length} workflow(s) on rule set ${ruleSet.hash.slice(0, 12)}`);
    return 0;
  } finally {
    await connection.close();
    await database.close();
  }
}
