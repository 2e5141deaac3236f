/**
 * What a rule set says about each transition of a machine: the guards that may refuse its event
 * (`guards.<machine>.<event>`, rule id, code and message) and the mail it sends
 * (`notifications.<machine>.<event>`). Drawn on the edges by `ccx diagrams` and the /machines page,
 * so product owners see the policy in force where it acts. Pure.
 */
import type { GraphEdge } from '../machines/graph.ts';
import { GUARD_EVENTS, type GuardEvent } from './facts.ts';
import { describeMail, NOTIFICATION_EVENTS, type CompiledRuleSet, type NotificationEvent } from './model.ts';

export interface EdgeRule {
  id: string;
  code: string;
  /** The message template as written (`{{ … }}` parts unevaluated). */
  message: string;
}

export interface EdgePolicy {
  rules: EdgeRule[];
  /** `mail accepted to source`; null when the rule set sends none (or the edge owes none). */
  mail: string | null;
}

const guardEventOf = (machine: string, event: string): GuardEvent | undefined =>
  GUARD_EVENTS.find((e) => e === `${machine}.${event}`);
const notificationEventOf = (machine: string, event: string): NotificationEvent | undefined =>
  NOTIFICATION_EVENTS.find((e) => e === `${machine}.${event}`);

export function edgePolicy(machine: string, edge: GraphEdge, ruleSet: CompiledRuleSet): EdgePolicy {
  const guardEvent = guardEventOf(machine, edge.event);
  const rules = (guardEvent ? ruleSet.guards[guardEvent] ?? [] : []).map((g) => ({ id: g.id, code: g.code, message: g.message }));
  const notification = edge.notify ? notificationEventOf(machine, edge.event) : undefined;
  return { rules, mail: notification ? describeMail(ruleSet.notifications[notification]) : null };
}
