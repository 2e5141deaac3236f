/**
 * System mails to clients (docs/architecture.md "Domain"), in the recipient client's language. Plain text:
 * the recipients are back-office contact addresses, not customers. Every mail names both clients
 * with their ids, since one contact address may look after several clients.
 */
import type { Language, PartyFacts } from '../domain/connection.ts';
import { MAIL_TEMPLATES, type MailTemplate } from '../domain/mail.ts';
import { formatDate, formatMoney } from './mail-format.ts';

// domain/mail.ts names the mails; every one of them needs a template in each language (the
// Record<MailTemplate, …> tables below fail to compile when one is missing).
export { MAIL_TEMPLATES, type MailTemplate };

export interface MailData {
  recipient: PartyFacts;
  /** The other client of the connection: the one whose action (or silence) caused the mail. */
  other: PartyFacts;
  connectionId: string;
  offerAccess: boolean;
  expiresAt: string | null;
  /** The sale, for the sale mails (`saleRecorded`); absent for connection mails. */
  sale?: SaleMailData;
}

/** What a sale mail states: the order and each offer of the recipient's sold in it, with the shares. */
export interface SaleMailData {
  orderId: string;
  /** ISO 4217; the amounts are minor units of it. */
  currency: string;
  items: Array<{ offerId: string; title: string; amountMinor: number; shareMinor: number }>;
}

export interface RenderedMail {
  subject: string;
  text: string;
}

interface Parts {
  subject: string;
  paragraphs: string[];
}

interface Helpers {
  /** Party as "Name (CLIENTID)". */
  p: (party: PartyFacts) => string;
  /** An ISO instant in the language's long form, in UTC (recipients sit in different zones). */
  date: (iso: string) => string;
  /** Minor units of a currency in the language's form ("13,99 €", "€13.99"). */
  money: (minor: number, currency: string) => string;
}

type Render = (d: MailData, h: Helpers) => Parts;

const german: Record<MailTemplate, Render> = {
  invitation: ({ recipient: r, other: o, offerAccess, expiresAt }, { p, date }) => ({
    subject: `Einladung zur Cross-Client-Verknüpfung von ${o.name}`,
    paragraphs: [
      `der Mandant ${p(o)} lädt Ihren Mandanten ${p(r)} zu einer Cross-Client-Verknüpfung ein. ` +
        'Nach Annahme der Einladung können Sie seine Cross-Client-Angebote in Ihren eigenen Warenkörben verkaufen.',
      offerAccess
        ? 'Der Zugriff auf diese Angebote ist bereits freigegeben.'
        : `Den Zugriff auf die Angebote gibt ${o.name} gesondert frei; Sie erhalten dann eine Nachricht.`,
      expiresAt
        ? `Bitte nehmen Sie die Einladung bis zum ${date(expiresAt)} an oder lehnen Sie sie ab.`
        : 'Bitte nehmen Sie die Einladung an oder lehnen Sie sie ab.',
    ],
  }),
  accepted: ({ recipient: r, other: o, offerAccess }, { p }) => ({
    subject: `${o.name} hat Ihre Einladung angenommen`,
    paragraphs: [
      `der Mandant ${p(o)} hat die Einladung Ihres Mandanten ${p(r)} zur Cross-Client-Verknüpfung angenommen. ` +
        'Die Verknüpfung ist jetzt aktiv.',
      offerAccess
        ? `${o.name} kann Ihre Cross-Client-Angebote ab sofort in eigenen Warenkörben verkaufen.`
        : `Sobald Sie den Zugriff auf Ihre Angebote freigeben, kann ${o.name} sie in eigenen Warenkörben verkaufen.`,
    ],
  }),
  declined: ({ recipient: r, other: o }, { p }) => ({
    subject: `${o.name} hat Ihre Einladung abgelehnt`,
    paragraphs: [
      `der Mandant ${p(o)} hat die Einladung Ihres Mandanten ${p(r)} zur Cross-Client-Verknüpfung abgelehnt.`,
      'Sie können später eine neue Einladung senden.',
    ],
  }),
  withdrawn: ({ recipient: r, other: o }, { p }) => ({
    subject: `Einladung von ${o.name} zurückgezogen`,
    paragraphs: [
      `der Mandant ${p(o)} hat seine Einladung an Ihren Mandanten ${p(r)} zur Cross-Client-Verknüpfung zurückgezogen.`,
      'Sie müssen nichts weiter tun.',
    ],
  }),
  expired: ({ recipient: r, other: o, expiresAt }, { p, date }) => ({
    subject: `Einladung an ${o.name} abgelaufen`,
    paragraphs: [
      `die Einladung Ihres Mandanten ${p(r)} an den Mandanten ${p(o)} zur Cross-Client-Verknüpfung wurde nicht ` +
        `rechtzeitig beantwortet und ist ${expiresAt ? `am ${date(expiresAt)} ` : ''}abgelaufen.`,
      'Sie können jederzeit eine neue Einladung senden.',
    ],
  }),
  offerAccessChanged: ({ recipient: r, other: o, offerAccess: on }, { p }) => ({
    subject: `Zugriff auf die Angebote von ${o.name} ${on ? 'freigegeben' : 'entzogen'}`,
    paragraphs: [
      `der Mandant ${p(o)} hat Ihrem Mandanten ${p(r)} den Zugriff auf seine Cross-Client-Angebote ` +
        `${on ? 'freigegeben' : 'entzogen'}.`,
      on
        ? 'Sie können diese Angebote jetzt in Ihre Warenkörbe aufnehmen.'
        : 'Ihre Warenkörbe bieten diese Angebote vorerst nicht mehr an. Ist eines davon Pflichtbestandteil eines ' +
          'Warenkorbs, ist dieser bis zur erneuten Freigabe nicht verkäuflich.',
    ],
  }),
  blocked: ({ recipient: r, other: o }, { p }) => ({
    subject: `Verknüpfung mit ${o.name} gesperrt`,
    paragraphs: [
      `der Mandant ${p(o)} hat die Cross-Client-Verknüpfung mit Ihrem Mandanten ${p(r)} gesperrt.`,
      `Solange die Sperre besteht, ist über diese Verknüpfung kein Verkauf möglich. Aufheben kann die Sperre nur ${o.name}.`,
    ],
  }),
  unblocked: ({ recipient: r, other: o }, { p }) => ({
    subject: `Sperre der Verknüpfung mit ${o.name} aufgehoben`,
    paragraphs: [
      `der Mandant ${p(o)} hat die Sperre der Cross-Client-Verknüpfung mit Ihrem Mandanten ${p(r)} aufgehoben.`,
      'Die Verknüpfung ist wieder aktiv.',
    ],
  }),
  ended: ({ recipient: r, other: o }, { p }) => ({
    subject: `Verknüpfung mit ${o.name} beendet`,
    paragraphs: [
      `der Mandant ${p(o)} hat die Cross-Client-Verknüpfung mit Ihrem Mandanten ${p(r)} beendet.`,
      'Über diese Verknüpfung ist kein Verkauf mehr möglich. Die bisherigen Einträge der Auszahlungsliste bleiben ' +
        'für beide Seiten einsehbar.',
    ],
  }),
  saleRecorded: ({ recipient: r, other: o, sale }, { p, money }) => ({
    subject: `Verkauf Ihrer Angebote durch ${o.name}${sale ? ` (Bestellung ${sale.orderId})` : ''}`,
    paragraphs: [
      `der Mandant ${p(o)} hat Cross-Client-Angebote Ihres Mandanten ${p(r)} verkauft` +
        (sale ? ` (Bestellung ${sale.orderId}):` : '.'),
      ...(sale ? [
        sale.items.map((i) => `- ${i.title} (${i.offerId}): ${money(i.amountMinor, sale.currency)}, Ihr Anteil ${money(i.shareMinor, sale.currency)}`).join('\n'),
        `Ihr Anteil insgesamt: ${money(sale.items.reduce((sum, i) => sum + i.shareMinor, 0), sale.currency)}. ` +
          'Die Einträge stehen in Ihrer Auszahlungsliste.',
      ] : ['Die Einträge stehen in Ihrer Auszahlungsliste.']),
    ],
  }),
};

const english: Record<MailTemplate, Render> = {
  invitation: ({ recipient: r, other: o, offerAccess, expiresAt }, { p, date }) => ({
    subject: `${o.name} invites you to a cross-client connection`,
    paragraphs: [
      `The client ${p(o)} invites your client ${p(r)} to a cross-client connection. ` +
        'Once you accept, you can sell its cross-client offers in your own carts.',
      offerAccess
        ? 'Access to these offers has already been granted.'
        : `${o.name} will grant access to the offers separately; you will be notified.`,
      expiresAt ? `Please accept or decline the invitation by ${date(expiresAt)}.` : 'Please accept or decline the invitation.',
    ],
  }),
  accepted: ({ recipient: r, other: o, offerAccess }, { p }) => ({
    subject: `${o.name} accepted your connection invitation`,
    paragraphs: [
      `The client ${p(o)} has accepted the cross-client connection invitation from your client ${p(r)}. ` +
        'The connection is now active.',
      offerAccess
        ? `${o.name} can now sell your cross-client offers in its own carts.`
        : `Once you grant access to your offers, ${o.name} can sell them in its own carts.`,
    ],
  }),
  declined: ({ recipient: r, other: o }, { p }) => ({
    subject: `${o.name} declined your connection invitation`,
    paragraphs: [
      `The client ${p(o)} has declined the cross-client connection invitation from your client ${p(r)}.`,
      'You may send a new invitation later.',
    ],
  }),
  withdrawn: ({ recipient: r, other: o }, { p }) => ({
    subject: `${o.name} withdrew its connection invitation`,
    paragraphs: [
      `The client ${p(o)} has withdrawn its cross-client connection invitation to your client ${p(r)}.`,
      'No action is required on your part.',
    ],
  }),
  expired: ({ recipient: r, other: o, expiresAt }, { p, date }) => ({
    subject: `Your connection invitation to ${o.name} has expired`,
    paragraphs: [
      `The cross-client connection invitation from your client ${p(r)} to the client ${p(o)} was not answered ` +
        `in time and expired${expiresAt ? ` on ${date(expiresAt)}` : ''}.`,
      'You can send a new invitation at any time.',
    ],
  }),
  offerAccessChanged: ({ recipient: r, other: o, offerAccess: on }, { p }) => ({
    subject: `${o.name} has ${on ? 'granted you' : 'revoked your'} access to its offers`,
    paragraphs: [
      on
        ? `The client ${p(o)} has granted your client ${p(r)} access to its cross-client offers.`
        : `The client ${p(o)} has revoked the access of your client ${p(r)} to its cross-client offers.`,
      on
        ? 'You can now add these offers to your carts.'
        : 'Your carts will no longer include them. A cart in which one of them is mandatory cannot be sold ' +
          'until access is granted again.',
    ],
  }),
  blocked: ({ recipient: r, other: o }, { p }) => ({
    subject: `Connection with ${o.name} blocked`,
    paragraphs: [
      `The client ${p(o)} has blocked the cross-client connection with your client ${p(r)}.`,
      `While the block lasts, no sales are possible through this connection. Only ${o.name} can lift it.`,
    ],
  }),
  unblocked: ({ recipient: r, other: o }, { p }) => ({
    subject: `Connection with ${o.name} unblocked`,
    paragraphs: [
      `The client ${p(o)} has lifted the block on the cross-client connection with your client ${p(r)}.`,
      'The connection is active again.',
    ],
  }),
  ended: ({ recipient: r, other: o }, { p }) => ({
    subject: `Connection with ${o.name} ended`,
    paragraphs: [
      `The client ${p(o)} has ended the cross-client connection with your client ${p(r)}.`,
      'No further sales are possible through this connection. Existing payout list entries remain visible to both sides.',
    ],
  }),
  saleRecorded: ({ recipient: r, other: o, sale }, { p, money }) => ({
    subject: `${o.name} sold your offers${sale ? ` (order ${sale.orderId})` : ''}`,
    paragraphs: [
      `The client ${p(o)} has sold cross-client offers of your client ${p(r)}` + (sale ? ` (order ${sale.orderId}):` : '.'),
      ...(sale ? [
        sale.items.map((i) => `- ${i.title} (${i.offerId}): ${money(i.amountMinor, sale.currency)}, your share ${money(i.shareMinor, sale.currency)}`).join('\n'),
        `Your share in total: ${money(sale.items.reduce((sum, i) => sum + i.shareMinor, 0), sale.currency)}. ` +
          'The entries are in your payout list.',
      ] : ['The entries are in your payout list.']),
    ],
  }),
};

interface LanguageSetup {
  templates: Record<MailTemplate, Render>;
  locale: string;
  /** Greeting, and the paragraphs after the body (reference, sign-off, notice). */
  frame: (connectionId: string) => [string, string[]];
}

const languages: Record<Language, LanguageSetup> = {
  de: {
    templates: german,
    locale: 'de-DE',
    frame: (id) => [
      'Guten Tag,',
      [`Verknüpfungs-ID: ${id}`, 'Mit freundlichen Grüßen\nCross-Client Connections', 'Diese Nachricht wurde automatisch versendet.'],
    ],
  },
  en: {
    templates: english,
    locale: 'en-GB',
    frame: (id) => [
      'Hello,',
      [`Connection ID: ${id}`, 'Kind regards\nCross-Client Connections', 'This message was sent automatically.'],
    ],
  },
};

export function renderMail(template: MailTemplate, language: Language, data: MailData): RenderedMail {
  const lang = languages[language];
  const helpers: Helpers = {
    p: (party) => `${party.name} (${party.clientId})`,
    date: (iso) => formatDate(lang.locale, iso),
    money: (minor, currency) => formatMoney(lang.locale, minor, currency),
  };
  const { subject, paragraphs } = lang.templates[template](data, helpers);
  const [greeting, closing] = lang.frame(data.connectionId);
  // The German salutation "Guten Tag," continues in lower case; the paragraphs are written so.
  return { subject, text: [greeting, ...paragraphs, ...closing].join('\n\n') + '\n' };
}
