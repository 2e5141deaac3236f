/**
 * The machines as the /machines page and `ccx diagrams` show them: drawn from their definitions
 * (machines/catalog.ts), with what a rule set says on each edge (rules/edge-policy.ts). Pure but
 * for `rulesOfVersion`, which reads a published version.
 */
import type { Kysely } from 'kysely';
import { getActiveRuleSetVersion, getCompiledRuleSet } from '../db/rule-set.repository.ts';
import type { Database } from '../db/schema.ts';
import { ErrorCode } from '../domain/errors.ts';
import { machineCatalog, type MachineName } from '../machines/catalog.ts';
import { NOTIFY } from '../machines/commands.ts';
import { toMermaid } from '../machines/diagram.ts';
import { machineGraph, type GraphEdge } from '../machines/graph.ts';
import { toSvg, type EdgeNote } from '../machines/svg.ts';
import { edgePolicy, type EdgeRule } from '../rules/edge-policy.ts';
import { createEvaluator, type RulesEvaluator } from '../rules/evaluator.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { ApiError } from './errors.ts';

export interface DescribedEdge extends GraphEdge {
  rules: EdgeRule[];
  mail: string | null;
}

export interface DescribedMachine {
  name: MachineName;
  initial: string;
  states: Array<{ key: string; final: boolean; initial: boolean }>;
  roles: string[];
  commands: Array<{ name: string; summary: string; who: string; guarded: boolean; mails: boolean }>;
  edges: DescribedEdge[];
  svg: string;
  mermaid: string;
}

const graphOf = (name: MachineName) => machineGraph(machineCatalog[name].machine, machineCatalog[name].startEvent);

const firstLine = (e: GraphEdge): string => `${e.event}${e.guard ? ` [${e.guard}]` : ''}`;

function notes(name: MachineName, ruleSet: CompiledRuleSet | null) {
  return (e: GraphEdge): EdgeNote[] => {
    const effects = e.actions.filter((a) => a !== NOTIFY);
    const effectNotes = effects.length ? [{ kind: 'effect' as const, text: `/ ${effects.join(', ')}` }] : [];
    if (!ruleSet) return effectNotes; // no policy known: the machine alone, never another set's rules
    const policy = edgePolicy(name, e, ruleSet);
    // The start's guarded branch is the workflow's own refusal (`isRejected`): the rules show once,
    // on the branch they let through.
    const rules = e.automatic && e.guard !== null ? [] : policy.rules;
    return [
      ...effectNotes,
      ...rules.map((r) => ({ kind: 'rule' as const, text: `rule ${r.id}` })),
      ...(e.notify ? [{ kind: 'mail' as const, text: policy.mail ?? 'no mail' }] : []),
    ];
  };
}

/** The machine with a rule set's rules and mails on its edges; `null`: a rule set unknown here, so none. */
export function machineSvg(name: MachineName, ruleSet: CompiledRuleSet | null): string {
  const title = ruleSet ? `${name} lifecycle, rule set ${ruleSet.name}` : `${name} lifecycle, without rules (its rule set is not published here)`;
  return toSvg(graphOf(name), { labelOf: firstLine, notesOf: notes(name, ruleSet), title });
}

/** Mermaid text, mails as the rule set routes them (README, `ccx diagrams`). */
export function machineMermaid(name: MachineName, ruleSet: CompiledRuleSet): string {
  const { machine, startEvent } = machineCatalog[name];
  return toMermaid(machine, { startEvent, mailOf: (event) => edgePolicy(name, { event, notify: true } as GraphEdge, ruleSet).mail });
}

export function describeMachine(name: MachineName, ruleSet: CompiledRuleSet): DescribedMachine {
  const { commands, roles } = machineCatalog[name];
  const graph = graphOf(name);
  return {
    name,
    initial: graph.initial,
    states: graph.states,
    roles: [...roles],
    commands: Object.entries(commands).map(([command, spec]) => ({
      name: command, summary: spec.summary, who: spec.who, guarded: 'guarded' in spec && spec.guarded === true, mails: 'mails' in spec && spec.mails === true,
    })),
    edges: graph.edges.map((e) => ({ ...e, ...edgePolicy(name, e, ruleSet) })),
    svg: machineSvg(name, ruleSet),
    mermaid: machineMermaid(name, ruleSet),
  };
}

const evaluators = new Map<string, { ruleSet: CompiledRuleSet; evaluator: RulesEvaluator }>();

/** A published version (default: the active one) with its evaluator; 404 for a version never published. */
export async function rulesOfVersion(db: Kysely<Database>, version?: string): Promise<{ ruleSet: CompiledRuleSet; evaluator: RulesEvaluator; active: boolean }> {
  const activeVersion = await getActiveRuleSetVersion(db);
  const wanted = version ?? activeVersion;
  if (!wanted) throw new ApiError(ErrorCode.UNAVAILABLE, 'no rule set is active: publish one (POST /v1/rule-sets)');
  let entry = evaluators.get(wanted);
  if (!entry) {
    const ruleSet = await getCompiledRuleSet(db, wanted);
    if (!ruleSet) throw new ApiError(ErrorCode.NOT_FOUND, `no rule set of version ${wanted} was ever published`);
    entry = { ruleSet, evaluator: createEvaluator(ruleSet) };
    evaluators.set(wanted, entry);
  }
  return { ...entry, active: wanted === activeVersion };
}
