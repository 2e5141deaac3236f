/**
 * The system mails the product knows how to write (templates in activities/mail-templates.ts).
 * Which lifecycle event sends which of them, and to whom, is the rule set's `notifications`
 * (docs/architecture.md "Mails").
 */
export const MAIL_TEMPLATES = [
  'invitation', 'accepted', 'declined', 'withdrawn', 'expired', 'offerAccessChanged', 'blocked', 'unblocked', 'ended',
  'saleRecorded',
] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];
