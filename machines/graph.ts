/**
 * A machine's states and transitions as plain data, read from its definition (never a hand-kept
 * copy): what the Mermaid text, the SVG drawing and the /machines page are made from. Pure.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { NOTIFY } from './commands.ts';

export interface GraphState {
  key: string;
  final: boolean;
  initial: boolean;
}

export interface GraphEdge {
  /** Stable within one machine: `<from>.<event>.<n>` (n counts the event's transitions in order). */
  id: string;
  from: string;
  to: string;
  event: string;
  guard: string | null;
  /** Effects by name, `notify` included (the rule set says which mail, if any). */
  actions: string[];
  notify: boolean;
  /** Taken by itself when the state is entered (an `always` transition), under the start event. */
  automatic: boolean;
}

export interface MachineGraph {
  id: string;
  initial: string;
  states: GraphState[];
  edges: GraphEdge[];
}

const nameOf = (x: unknown): string => (typeof x === 'string' ? x : ((x as { type?: string } | undefined)?.type ?? ''));

/** `startEvent` labels the transitions taken right at the start (the connection's `invite`). */
export function machineGraph(machine: AnyStateMachine, startEvent = '(immediately)'): MachineGraph {
  const root = machine.root;
  const initial = root.config.initial as string;
  const states: GraphState[] = [];
  const edges: GraphEdge[] = [];
  for (const node of Object.values(root.states) as AnyStateNode[]) {
    states.push({ key: node.key, final: node.type === 'final', initial: node.key === initial });
    const groups: Array<[string, ReadonlyArray<{ target?: ReadonlyArray<{ key: string }>; guard?: unknown; actions: ReadonlyArray<unknown> }>, boolean]> = [];
    if (node.always?.length) groups.push([node.key === initial ? startEvent : '(immediately)', node.always, true]);
    for (const [event, transitions] of node.transitions) groups.push([event, transitions, false]);
    for (const [event, transitions, automatic] of groups) {
      transitions.forEach((t, n) => {
        const actions = t.actions.map(nameOf).filter(Boolean);
        edges.push({
          id: `${node.key}.${event}.${n}`,
          from: node.key,
          to: t.target?.[0]?.key ?? node.key,
          event,
          guard: t.guard ? nameOf(t.guard) || 'guard' : null,
          actions,
          notify: actions.includes(NOTIFY),
          automatic,
        });
      });
    }
  }
  return { id: machine.id, initial, states, edges };
}
