/**
 * What the Temporal UI shows of a connection run (docs/operators.md): the summary on each recorded
 * transition and the run's "Current details". Pure text from workflow state; nothing here enters
 * history as a command.
 */
import type { SystemMail } from '../activities/connection.activities.ts';
import type { ConnectionTransition } from '../domain/connection.ts';
import type { ConnectionEntity } from './connection.entity.ts';

/** "record accept → active; mail → Morgenpost" */
export function recordSummary(t: ConnectionTransition, mails: SystemMail[]): string {
  const to = mails.map((m) => m.recipient.name);
  return `record ${t.history.event} → ${t.view.status}${to.length > 0 ? `; mail → ${to.join(', ')}` : ''}`;
}

/** Markdown for the Temporal UI's "Current details": parties, status, who blocked, rules, mails. */
export function currentDetails(entity: ConnectionEntity, mailsQueued: number): string {
  const view = entity.view();
  const { source, target } = entity.currentFacts;
  const name = (id: string | null) => (id === source.clientId ? source.name : id === target?.clientId ? target.name : id);
  return [
    `**${source.name} → ${target?.name ?? view.targetClientId}**: ${view.status}${view.blockedBy ? ` (blocked by ${name(view.blockedBy)})` : ''}, offer access ${view.offerAccess ? 'on' : 'off'}`,
    `rule set **${entity.ruleSet.name}** ${entity.ruleSet.hash.slice(0, 12)} · version ${view.version}${view.expiresAt && view.status === 'invited' ? ` · expires ${view.expiresAt.slice(0, 10)}` : ''}`,
    mailsQueued > 0 ? `${mailsQueued} mail(s) queued with the last transition (GET /v1/mails)` : 'no mail queued with the last transition',
  ].join('\n\n');
}
