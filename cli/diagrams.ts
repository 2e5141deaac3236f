/**
 * `ccx diagrams`: every machine as Mermaid (`<name>.mmd`) and as SVG (`<name>.svg`), its rules
 * and mails drawn as the given rule set has them (by default CCX_RULES or
 * rules/default.rules.yaml — what a fresh stack runs).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { machineMermaid, machineSvg } from '../api/machines.service.ts';
import { DEFAULT_RULES_FILE } from '../api/rule-set.service.ts';
import { MACHINE_NAMES, type MachineName } from '../machines/catalog.ts';
import { formatRulesError } from '../rules/errors.ts';
import { loadRuleSet } from '../rules/loader.ts';
import type { CompiledRuleSet } from '../rules/model.ts';

/** The Mermaid text of a machine (the README holds this very text; a test keeps it current). */
export const diagramOf = (name: MachineName, ruleSet: CompiledRuleSet): string => machineMermaid(name, ruleSet);

export async function loadRulesFile(file = process.env.CCX_RULES || DEFAULT_RULES_FILE): Promise<CompiledRuleSet> {
  const loaded = loadRuleSet(await readFile(file, 'utf8'), { file });
  if (!loaded.ok) throw new Error(loaded.errors.map(formatRulesError).join('\n'));
  return loaded.ruleSet;
}

export async function writeDiagrams(dir: string, rulesFile?: string): Promise<string[]> {
  const ruleSet = await loadRulesFile(rulesFile);
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const name of MACHINE_NAMES) {
    for (const [ext, text] of [['mmd', machineMermaid(name, ruleSet)], ['svg', machineSvg(name, ruleSet)]] as const) {
      const file = path.join(dir, `${name}.${ext}`);
      await writeFile(file, text);
      written.push(file);
    }
  }
  return written;
}
