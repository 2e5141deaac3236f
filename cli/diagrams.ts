/**
 * `ccx diagrams`: every machine as Mermaid, its mails drawn as the given rule set routes them
 * (by default CCX_RULES or rules/default.rules.yaml — what a fresh stack runs).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_RULES_FILE } from '../api/rule-set.service.ts';
import { cartMachine } from '../machines/cart.machine.ts';
import { connectionMachine } from '../machines/connection.machine.ts';
import { toMermaid } from '../machines/diagram.ts';
import { formatRulesError } from '../rules/errors.ts';
import { createEvaluator } from '../rules/evaluator.ts';
import { loadRuleSet } from '../rules/loader.ts';
import { describeMail, notificationEventOf, type CompiledRuleSet } from '../rules/model.ts';

/** Every machine the product has, by file name, with the event that starts it. */
export const machines = {
  connection: { machine: connectionMachine, startEvent: 'invite' },
  cart: { machine: cartMachine, startEvent: 'create' },
};

export function diagramOf(name: keyof typeof machines, ruleSet: CompiledRuleSet): string {
  const { machine, startEvent } = machines[name];
  const rules = createEvaluator(ruleSet);
  return toMermaid(machine, {
    startEvent,
    mailOf: (event) => {
      const notification = notificationEventOf(event);
      return notification && describeMail(rules.notification(notification));
    },
  });
}

export async function loadRulesFile(file = process.env.CCX_RULES || DEFAULT_RULES_FILE): Promise<CompiledRuleSet> {
  const loaded = loadRuleSet(await readFile(file, 'utf8'), { file });
  if (!loaded.ok) throw new Error(loaded.errors.map(formatRulesError).join('\n'));
  return loaded.ruleSet;
}

export async function writeDiagrams(dir: string, rulesFile?: string): Promise<string[]> {
  const ruleSet = await loadRulesFile(rulesFile);
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const name of Object.keys(machines) as Array<keyof typeof machines>) {
    const file = path.join(dir, `${name}.mmd`);
    await writeFile(file, diagramOf(name, ruleSet));
    written.push(file);
  }
  return written;
}
