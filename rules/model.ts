/**
 * The vocabulary of a rule set and the JSON-safe `CompiledRuleSet` the loader produces: the form
 * that travels as workflow input and history (docs/architecture.md "Rules"), so it holds only strings,
 * numbers and booleans. Pure: no Node built-ins.
 */
import type { ErrorCode } from '../domain/errors.ts';
import { MAIL_TEMPLATES, type MailTemplate } from '../domain/mail.ts';
import { flaggedCommands, type FlaggedCommands } from '../machines/commands.ts';
import { CONNECTION_LIFECYCLE_EVENTS, connectionCommands, type ConnectionCommands } from '../machines/connection.commands.ts';
import type { GuardEvent } from './facts.ts';

/** The language version a rule set declares in its header (`version: 1`). */
export const RULES_LANGUAGE_VERSION = 1;

/**
 * Codes a guard may name (docs/architecture.md "HTTP API"). Only the 422 codes: a rule says "the policy says no", which
 * must not masquerade as an authentication, state or idempotency error.
 */
export const RULE_CODES = [
  'RULE_REJECTED', 'CONTRACT_MODULE_INACTIVE', 'SELF_CONNECTION', 'ITEM_UNAVAILABLE', 'CURRENCY_MISMATCH',
  'REFUND_EXCEEDS_PAYMENT',
] as const satisfies readonly ErrorCode[];
export type RuleCode = (typeof RULE_CODES)[number];
export const DEFAULT_RULE_CODE: RuleCode = 'RULE_REJECTED';

/**
 * The events that may send a system mail: the invitation, its expiry and every command declared
 * with `mails` (machines/connection.commands.ts), and the purchase's record of a sale (one mail
 * per purchase and source: "your offers were sold").
 */
export type ConnectionNotificationEvent = `connection.${(typeof CONNECTION_LIFECYCLE_EVENTS)[number] | FlaggedCommands<ConnectionCommands, 'mails'>}`;
export const PURCHASE_NOTIFICATION_EVENTS = ['purchase.record'] as const;
export type PurchaseNotificationEvent = (typeof PURCHASE_NOTIFICATION_EVENTS)[number];
export type NotificationEvent = ConnectionNotificationEvent | PurchaseNotificationEvent;
const CONNECTION_NOTIFICATION_EVENTS: readonly ConnectionNotificationEvent[] = [
  ...CONNECTION_LIFECYCLE_EVENTS,
  ...flaggedCommands(connectionCommands, 'mails'),
].map((event) => `connection.${event}` as const);
export const NOTIFICATION_EVENTS: readonly NotificationEvent[] = [...CONNECTION_NOTIFICATION_EVENTS, ...PURCHASE_NOTIFICATION_EVENTS];

/** The notification event of a connection lifecycle event, if it is one that may mail. */
export const notificationEventOf = (event: string): ConnectionNotificationEvent | null =>
  CONNECTION_NOTIFICATION_EVENTS.find((e) => e === `connection.${event}`) ?? null;

/**
 * Templates written for one kind of event: a sale mail needs the sale, a connection mail cannot
 * have one. The loader refuses a rule that routes an event to a template of the other kind.
 */
export const SALE_MAIL_TEMPLATES: readonly MailTemplate[] = ['saleRecorded'];
export const templateFitsEvent = (event: NotificationEvent, template: MailTemplate): boolean =>
  SALE_MAIL_TEMPLATES.includes(template) === event.startsWith('purchase.');

/** The templates a notification may name: the machine's mails. */
export const MAIL_TEMPLATE_NAMES = MAIL_TEMPLATES;

/**
 * `otherParty`: whichever party did not act (block, unblock, end can come from either side). For a
 * purchase event, `source` is the owner of the offers sold, `target` the seller (the connection's
 * target), and `otherParty` the source (the seller acted).
 */
export const RECIPIENTS = ['source', 'target', 'otherParty'] as const;
export type Recipient = (typeof RECIPIENTS)[number];

/** Structural limits, checked at load so evaluation stays cheap and bounded. */
export const LIMITS = {
  sourceBytes: 256 * 1024,
  expressionLength: 1000,
  /** cel-js nesting depth (calls, member selections, indexes, parentheses, aggregates). */
  expressionDepth: 24,
  astNodes: 300,
  messageLength: 500,
  rulesPerEvent: 50,
  payoutRules: 100,
  idLength: 64,
  /** Invitation TTL bounds: long enough for a test (PT1S), short enough to mean something (1 year). */
  minTtlMs: 1000,
  maxTtlMs: 366 * 24 * 60 * 60 * 1000,
} as const;

export interface CompiledGuard {
  id: string;
  /** CEL, type-checked to `bool` for the event's facts. */
  require: string;
  /** Message template; `{{ expr }}` parts are CEL over the same facts. */
  message: string;
  code: RuleCode;
}

export interface CompiledNotification {
  template: MailTemplate;
  recipient: Recipient;
  enabled: boolean;
}

export interface CompiledPayoutRule {
  id: string;
  /** CEL `bool` over the payout facts. */
  when: string;
  /** CEL `int` over the payout facts: the source's share, 0..10000 basis points. */
  shareBasisPoints: string;
}

export interface CompiledRuleSet {
  /** Shape of this object; bump when it changes so an old workflow input is recognisable. */
  format: 1;
  /** sha256 (hex) of the exact YAML source: the rule set's version. */
  hash: string;
  name: string;
  description: string;
  guards: Partial<Record<GuardEvent, CompiledGuard[]>>;
  timers: { invitationTtl: string; invitationTtlMs: number };
  /** A mailing event that is not listed sends no mail (the loader warns). */
  notifications: Partial<Record<NotificationEvent, CompiledNotification>>;
  payouts: CompiledPayoutRule[];
}

/** How the rule set routes the mail of a lifecycle event, in the words of a diagram; null: no mail. */
export function describeMail(notification: CompiledNotification | null | undefined): string | null {
  if (!notification?.enabled) return null;
  const to = notification.recipient === 'otherParty' ? 'other party' : notification.recipient;
  return `mail ${notification.template} to ${to}`;
}
