/**
 * Mermaid state diagrams straight from the machine definitions, so the picture product owners see
 * (README, `ccx diagrams`) can never drift from the code. Guards show as `[guard]`, named
 * effects as `/ effect`.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';

function describeActions(actions: ReadonlyArray<unknown>): string {
  const names = actions.map((a) => {
    if (typeof a === 'string') return a;
    const action = a as { type?: string; params?: unknown };
    const params = action.params;
    if (action.type === 'sendMail') {
      const { template, to } = params as { template: string; to: string };
      return `mail ${template} to ${to === 'otherParty' ? 'other party' : to}`;
    }
    return action.type ?? '';
  });
  return names.filter(Boolean).join(', ');
}

export function toMermaid(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  const root = machine.root;
  lines.push(`  [*] --> ${root.config.initial as string}`);
  for (const node of Object.values(root.states) as AnyStateNode[]) {
    if (node.type === 'final') lines.push(`  ${node.key} --> [*]`);
    for (const t of node.always ?? []) {
      lines.push(`  ${node.key} --> ${t.target?.[0]?.key ?? node.key}: ${label('(immediately)', t.guard, t.actions)}`);
    }
    for (const [event, transitions] of node.transitions) {
      for (const t of transitions) {
        const target = t.target?.[0]?.key ?? node.key;
        lines.push(`  ${node.key} --> ${target}: ${label(event, t.guard, t.actions)}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

function label(event: string, guard: unknown, actions: ReadonlyArray<unknown>): string {
  const g = guard ? ` [${typeof guard === 'string' ? guard : ((guard as { type?: string }).type ?? 'guard')}]` : '';
  const effects = describeActions(actions.filter((a) => (a as { type?: string }).type === 'sendMail' || typeof a === 'string'));
  return `${event}${g}${effects ? ` / ${effects}` : ''}`;
}
