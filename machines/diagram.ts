/**
 * Mermaid state diagrams straight from the machine definitions (machines/graph.ts), so the picture
 * product owners see (README, `ccx diagrams`) can never drift from the code. Guards show as
 * `[guard]`, effects as `/ effect`. A `notify` effect is drawn as the mail the given routing sends
 * (the rule set in force decides which mail goes to whom; the machine only says one is owed).
 */
import type { AnyStateMachine } from 'xstate';
import { NOTIFY } from './commands.ts';
import { machineGraph, type GraphEdge } from './graph.ts';

export interface DiagramOptions {
  /** The event that starts the machine (drawn on the transitions taken right at the start). */
  startEvent?: string;
  /** How the mail owed for an event goes out, e.g. `mail accepted to source`; null: no mail. */
  mailOf?: (event: string) => string | null;
}

export function toMermaid(machine: AnyStateMachine, options: DiagramOptions = {}): string {
  const graph = machineGraph(machine, options.startEvent);
  const lines = ['stateDiagram-v2', `  [*] --> ${graph.initial}`];
  for (const state of graph.states) {
    if (state.final) lines.push(`  ${state.key} --> [*]`);
    for (const edge of graph.edges.filter((e) => e.from === state.key)) {
      lines.push(`  ${edge.from} --> ${edge.to}: ${edgeLabel(edge, options.mailOf)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** `event [guard] / effects`, the `notify` effect as the mail `mailOf` says goes out. */
export function edgeLabel(edge: GraphEdge, mailOf?: (event: string) => string | null): string {
  const g = edge.guard ? ` [${edge.guard}]` : '';
  const effects = edge.actions
    .map((name) => (name === NOTIFY ? (mailOf ? (mailOf(edge.event) ?? 'no mail') : 'mail') : name))
    .join(', ');
  return `${edge.event}${g}${effects ? ` / ${effects}` : ''}`;
}
