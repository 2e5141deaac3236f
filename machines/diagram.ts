/**
 * Mermaid state diagrams straight from the machine definitions, so the picture product owners see
 * (README, `ccx diagrams`) can never drift from the code. Guards show as `[guard]`, effects as
 * `/ effect`. A `notify` effect is drawn as the mail the given routing sends (the rule set in
 * force decides which mail goes to whom; the machine only says one is owed).
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { NOTIFY } from './commands.ts';

export interface DiagramOptions {
  /** The event that starts the machine (drawn on the transitions taken right at the start). */
  startEvent?: string;
  /** How the mail owed for an event goes out, e.g. `mail accepted to source`; null: no mail. */
  mailOf?: (event: string) => string | null;
}

export function toMermaid(machine: AnyStateMachine, options: DiagramOptions = {}): string {
  const lines = ['stateDiagram-v2'];
  const root = machine.root;
  const initial = root.config.initial as string;
  lines.push(`  [*] --> ${initial}`);
  for (const node of Object.values(root.states) as AnyStateNode[]) {
    if (node.type === 'final') lines.push(`  ${node.key} --> [*]`);
    const startEvent = node.key === initial && options.startEvent ? options.startEvent : '(immediately)';
    for (const t of node.always ?? []) {
      lines.push(`  ${node.key} --> ${t.target?.[0]?.key ?? node.key}: ${label(startEvent, t.guard, t.actions, options)}`);
    }
    for (const [event, transitions] of node.transitions) {
      for (const t of transitions) {
        lines.push(`  ${node.key} --> ${t.target?.[0]?.key ?? node.key}: ${label(event, t.guard, t.actions, options)}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

function label(event: string, guard: unknown, actions: ReadonlyArray<unknown>, options: DiagramOptions): string {
  const g = guard ? ` [${typeof guard === 'string' ? guard : ((guard as { type?: string }).type ?? 'guard')}]` : '';
  const effects = actions
    .map((a) => (typeof a === 'string' ? a : ((a as { type?: string }).type ?? '')))
    .map((name) => (name === NOTIFY ? (options.mailOf ? (options.mailOf(event) ?? 'no mail') : 'mail') : name))
    .filter(Boolean)
    .join(', ');
  return `${event}${g}${effects ? ` / ${effects}` : ''}`;
}
