/**
 * What the Temporal UI shows of a cart run (docs/operators.md): the summary on each recorded
 * transition and the run's "Current details". Pure text from workflow state; nothing here enters
 * history as a command.
 */
import type { CartTransition } from './cart.entity.ts';
import type { CartEntity } from './cart.entity.ts';

/** "record availabilityChanged → suspended" */
export function cartRecordSummary(t: CartTransition): string {
  return `record ${t.history.event} → ${t.view.status}`;
}

/** Markdown for "Current details": seller and title, status, items and what is unavailable, rules. */
export function cartDetails(entity: CartEntity, sellerName: string): string {
  const view = entity.view();
  const external = view.items.filter((i) => i.external);
  const unavailable = view.items.filter((i) => !i.available).map((i) => `${i.title}${i.mandatory ? ' (mandatory)' : ''}`);
  return [
    `**${sellerName}: ${view.title}**: ${view.status}, ${view.items.length} item(s), ${external.length} of them external`,
    unavailable.length > 0 ? `unavailable: ${unavailable.join(', ')}` : 'every item available',
    `rule set **${entity.ruleSet.name}** ${entity.ruleSet.hash.slice(0, 12)} · version ${view.version}`,
  ].join('\n\n');
}
