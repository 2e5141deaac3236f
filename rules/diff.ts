/**
 * What changes between two rule sets, in words a product owner reads (`ccx rules diff`, the answer
 * of a publish and of a preview): guards added, removed, changed or reordered per event, the
 * invitation lifetime, which mail goes out on which event, and the payout rules. Compares the
 * compiled forms, so spacing, comments and key order of the YAML make no difference. Pure.
 */
import { GUARD_EVENTS } from './facts.ts';
import { NOTIFICATION_EVENTS, type CompiledGuard, type CompiledNotification, type CompiledPayoutRule, type CompiledRuleSet } from './model.ts';

export type ChangeArea = 'name' | 'guard' | 'timer' | 'mail' | 'payout';
export interface RuleSetChange {
  area: ChangeArea;
  change: 'added' | 'removed' | 'changed' | 'reordered';
  /** The guard or notification event (`connection.accept`), when the change concerns one. */
  event?: string;
  /** The rule id, when the change concerns one rule. */
  rule?: string;
  text: string;
}

/** When each event happens, in words. */
export const EVENT_WORDS: Readonly<Record<string, string>> = {
  'connection.invite': 'a client invites another',
  'connection.accept': 'the target accepts an invitation',
  'connection.decline': 'the target declines an invitation',
  'connection.withdraw': 'the source withdraws an invitation',
  'connection.expire': 'an invitation expires',
  'connection.setOfferAccess': 'the source switches offer access',
  'connection.block': 'a party blocks a connection',
  'connection.unblock': 'the blocking party unblocks a connection',
  'connection.end': 'a party ends a connection',
  'cart.activate': 'a seller activates a cart',
  'cart.setItems': "a seller sets a cart's items",
  'purchase.record': 'a sale is recorded',
};
const when = (event: string) => `When ${EVENT_WORDS[event] ?? event}`;

/** `from` null: nothing was active before (everything is new). */
export function diffRuleSets(from: CompiledRuleSet | null, to: CompiledRuleSet): RuleSetChange[] {
  const changes: RuleSetChange[] = [];
  if (from && from.name !== to.name) changes.push({ area: 'name', change: 'changed', text: `The rule set is now called "${to.name}" (was "${from.name}")` });
  for (const event of GUARD_EVENTS) changes.push(...diffGuards(event, from?.guards[event] ?? [], to.guards[event] ?? []));
  const ttlFrom = from?.timers.invitationTtlMs;
  if (ttlFrom !== to.timers.invitationTtlMs) {
    changes.push({
      area: 'timer', change: ttlFrom === undefined ? 'added' : 'changed', event: 'connection.expire',
      text: `Invitations expire ${durationWords(to.timers.invitationTtlMs)} after they are sent${ttlFrom === undefined ? '' : ` (was ${durationWords(ttlFrom)})`}; this applies to invitations sent after publishing`,
    });
  }
  for (const event of NOTIFICATION_EVENTS) {
    const a = mailWords(from?.notifications[event]);
    const b = mailWords(to.notifications[event]);
    if (a !== b) changes.push({ area: 'mail', change: 'changed', event, text: `${when(event)}: ${b} (was ${a})` });
  }
  changes.push(...diffPayouts(from?.payouts ?? [], to.payouts));
  return changes;
}

function diffGuards(event: string, a: readonly CompiledGuard[], b: readonly CompiledGuard[]): RuleSetChange[] {
  const out: RuleSetChange[] = [];
  const before = new Map(a.map((g) => [g.id, g]));
  const after = new Map(b.map((g) => [g.id, g]));
  for (const g of a) {
    if (!after.has(g.id)) out.push({ area: 'guard', change: 'removed', event, rule: g.id, text: `${when(event)}: guard \`${g.id}\` is removed (it refused unless ${g.require})` });
  }
  for (const g of b) {
    const old = before.get(g.id);
    if (!old) {
      out.push({ area: 'guard', change: 'added', event, rule: g.id, text: `${when(event)}: new guard \`${g.id}\` refuses unless ${g.require} — answering ${g.code}: "${g.message}"` });
      continue;
    }
    const parts: string[] = [];
    if (old.require !== g.require) parts.push(`now refuses unless ${g.require} (was unless ${old.require})`);
    if (old.code !== g.code) parts.push(`now answers ${g.code} (was ${old.code})`);
    if (old.message !== g.message) parts.push(`now says "${g.message}" (was "${old.message}")`);
    if (parts.length > 0) out.push({ area: 'guard', change: 'changed', event, rule: g.id, text: `${when(event)}: guard \`${g.id}\` ${parts.join('; ')}` });
  }
  const order = (list: readonly CompiledGuard[], other: Map<string, unknown>) => list.filter((g) => other.has(g.id)).map((g) => g.id);
  const oldOrder = order(a, after);
  const newOrder = order(b, before);
  if (oldOrder.join() !== newOrder.join()) {
    out.push({ area: 'guard', change: 'reordered', event, text: `${when(event)}: guards now run in the order ${newOrder.join(', ')} (was ${oldOrder.join(', ')}); the first that refuses answers` });
  }
  return out;
}

function diffPayouts(a: readonly CompiledPayoutRule[], b: readonly CompiledPayoutRule[]): RuleSetChange[] {
  const out: RuleSetChange[] = [];
  const before = new Map(a.map((p) => [p.id, p]));
  const after = new Map(b.map((p) => [p.id, p]));
  for (const p of a) {
    if (!after.has(p.id)) out.push({ area: 'payout', change: 'removed', rule: p.id, text: `Payout rule \`${p.id}\` is removed (when ${p.when}, the source received ${shareWords(p.shareBasisPoints)})` });
  }
  for (const p of b) {
    const old = before.get(p.id);
    if (!old) {
      out.push({ area: 'payout', change: 'added', rule: p.id, text: `New payout rule \`${p.id}\`: when ${p.when}, the source receives ${shareWords(p.shareBasisPoints)}` });
      continue;
    }
    const parts: string[] = [];
    if (old.when !== p.when) parts.push(`now applies when ${p.when} (was when ${old.when})`);
    if (old.shareBasisPoints !== p.shareBasisPoints) parts.push(`now gives the source ${shareWords(p.shareBasisPoints)} (was ${shareWords(old.shareBasisPoints)})`);
    if (parts.length > 0) out.push({ area: 'payout', change: 'changed', rule: p.id, text: `Payout rule \`${p.id}\` ${parts.join('; ')}` });
  }
  const oldOrder = a.filter((p) => after.has(p.id)).map((p) => p.id);
  const newOrder = b.filter((p) => before.has(p.id)).map((p) => p.id);
  if (oldOrder.join() !== newOrder.join()) {
    out.push({ area: 'payout', change: 'reordered', text: `Payout rules now run in the order ${newOrder.join(', ')} (was ${oldOrder.join(', ')}); the first that applies decides` });
  }
  if (a.length > 0 && b.length === 0) out.push({ area: 'payout', change: 'changed', text: 'No payout rule is left: the source receives nothing of a sale' });
  return out;
}

export function mailWords(n: CompiledNotification | undefined): string {
  if (!n?.enabled) return 'no mail';
  const to = n.recipient === 'otherParty' ? 'the other party' : `the ${n.recipient}`;
  return `mail "${n.template}" to ${to}`;
}

/** `10000` → "100 % (10000 basis points)"; an expression stays an expression. */
export function shareWords(share: string): string {
  const trimmed = share.trim();
  if (!/^\d+$/.test(trimmed)) return `the share computed by ${trimmed} (basis points)`;
  const bp = Number(trimmed);
  return `${bp / 100} % (${bp} basis points)`;
}

export function durationWords(ms: number): string {
  const units: Array<[string, number]> = [['week', 604_800_000], ['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000], ['second', 1000]];
  const parts: string[] = [];
  let rest = ms;
  for (const [name, size] of units) {
    // Weeks only when the duration is whole weeks: "30 days" reads better than "4 weeks 2 days".
    if (name === 'week' && ms % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
    rest -= n * size;
  }
  return parts.join(' ') || '0 seconds';
}
