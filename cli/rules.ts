/**
 * `ccx rules …`: check, explain, publish and upgrade — the same loader, evaluator and publishing
 * code the API uses.
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
import { loadRuleSet } from '../rules/loader.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import type { Config } from '../runtime/config.ts';
import { DEFAULT_RULES_FILE, publishRuleSetSource, RuleSetRejectedError, upgradeToActiveRuleSet } from '../api/rule-set.service.ts';

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
    case 'publish':
      return rest[0] ? publish(config, rest[0]) : usage();
    case 'upgrade':
      return rest[0] ? upgrade(config, rest[0]) : usage();
  }
  return usage();
}

function usage(): number {
  console.error(`usage: ccx rules check <file>
       ccx rules explain <event|payout> <facts.json> [--rules <file>]   (events: ${GUARD_EVENTS.join(', ')})
       ccx rules publish <file>                                          (needs DATABASE_URL)
       ccx rules upgrade <workflowId | --all>                            (moves running connections and carts to the active rule set)`);
  return 2;
}

async function load(file: string): Promise<CompiledRuleSet | undefined> {
  const loaded = loadRuleSet(await readFile(file, 'utf8'), { file });
  if (loaded.ok) {
    for (const w of loaded.warnings) out(`warning: ${formatRulesError(w)}\n`);
    return loaded.ruleSet;
  }
  for (const e of loaded.errors) out(formatRulesError(e) + '\n');
  out(`${loaded.errors.length} error(s) in ${file}`);
  return undefined;
}

async function check(file: string): Promise<number> {
  const ruleSet = await load(file);
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

async function publish(config: Config, file: string): Promise<number> {
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set (the embedded database belongs to a running `ccx start`: use POST /v1/rule-sets)');
  const handle = openDatabase(config.databaseUrl);
  try {
    const { ruleSet, warnings } = await publishRuleSetSource(handle.db, await readFile(file, 'utf8'), file, cliActor());
    for (const w of warnings) out(`warning: ${formatRulesError(w)}\n`);
    out(`published "${ruleSet.name}" as version ${ruleSet.hash}; it is active for new connections`);
    return 0;
  } catch (err) {
    if (!(err instanceof RuleSetRejectedError)) throw err;
    for (const e of err.errors) out(formatRulesError(e) + '\n');
    return 1;
  } finally {
    await handle.close();
  }
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
