import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createConnectionActivities, mailMessageId, type SystemMail } from '../../activities/connection.activities.ts';
import { saleMailMessageId } from '../../activities/purchase.activities.ts';
import { MAIL_TEMPLATES, renderMail, type MailTemplate } from '../../activities/mail-templates.ts';
import { createMailTransport, DEFAULT_MAIL_FROM } from '../../activities/mailer.ts';
import { findMail } from '../../db/mail.repository.ts';
import { startMailDispatcher, type MailDispatcher } from '../../runtime/mail-dispatcher.ts';
import type { Language, PartyFacts } from '../../domain/connection.ts';
import { newId, testDatabase } from '../support/database.ts';
import { startTestSmtp, type TestSmtp } from '../support/smtp.ts';

const handle = testDatabase();
let smtp: TestSmtp;
let activities: ReturnType<typeof createConnectionActivities>;
let dispatcher: MailDispatcher;

// The activity puts the mail into the outbox; the dispatcher of this queue delivers it.
beforeAll(async () => {
  smtp = await startTestSmtp();
  const queue = `mail-test-${randomUUID()}`;
  activities = createConnectionActivities({ db: handle.db, mailQueue: queue });
  dispatcher = startMailDispatcher({ db: handle.db, mailer: createMailTransport(smtp.url), mailFrom: DEFAULT_MAIL_FROM, queue, intervalMs: 50 }, () => {});
});
afterAll(async () => {
  await dispatcher.stop();
  await smtp.stop();
  await handle.close();
});

function party(language: Language, name: string): PartyFacts {
  const clientId = newId();
  return { clientId, name, email: `${clientId.toLowerCase()}@example.test`, language, contractingCompanyId: newId(), moduleActive: true };
}

function mail(template: MailTemplate, language: Language, overrides: Partial<SystemMail> = {}): SystemMail {
  return {
    connectionId: randomUUID(),
    transition: 1,
    template,
    recipient: party(language, language === 'de' ? 'Verlag Müller' : 'Northwind Media'),
    other: party('en', 'Harbour Press'),
    offerAccess: true,
    expiresAt: '2026-12-27T14:05:00.000Z',
    ...overrides,
  };
}

async function received(messageId: string) {
  const [m] = await smtp.waitFor((m) => m.messageId === messageId);
  return m!;
}

// The word that tells the reader at a glance what happened, per template and language.
const keyword: Record<MailTemplate, Record<Language, string>> = {
  invitation: { de: 'Einladung', en: 'invites' },
  accepted: { de: 'angenommen', en: 'accepted' },
  declined: { de: 'abgelehnt', en: 'declined' },
  withdrawn: { de: 'zurückgezogen', en: 'withdrew' },
  expired: { de: 'abgelaufen', en: 'expired' },
  offerAccessChanged: { de: 'freigegeben', en: 'granted' },
  blocked: { de: 'gesperrt', en: 'blocked' },
  unblocked: { de: 'aufgehoben', en: 'unblocked' },
  ended: { de: 'beendet', en: 'ended' },
  saleRecorded: { de: 'Verkauf', en: 'sold' },
};

const cases = MAIL_TEMPLATES.flatMap((template) => (['de', 'en'] as const).map((language) => ({ template, language })));

describe('system mails over SMTP', () => {
  test.for(cases)('the $template mail reaches its recipient in language "$language"', async ({ template, language }) => {
    const m = mail(template, language);
    const result = await activities.sendSystemMail(m);
    expect(result.messageId).toBe(mailMessageId(m.connectionId, 1, template));

    const got = await received(result.messageId);
    expect(got.to).toBe(m.recipient.email);
    expect(got.template).toBe(template);
    expect(got.contentLanguage).toBe(language);
    expect(got.subject).toContain(keyword[template][language]);
    expect(got.subject).toContain(m.other.name);
    expect(got.text).toContain(language === 'de' ? 'Guten Tag,' : 'Hello,');
    expect(got.text).toContain(`${language === 'de' ? 'Verknüpfungs-ID' : 'Connection ID'}: ${m.connectionId}`);
    expect(got.text).toContain(`${m.recipient.name} (${m.recipient.clientId})`);
    expect(got.text).toContain(`${m.other.name} (${m.other.clientId})`);
  });

  test('the Message-ID is derived from connection, transition and template', () => {
    expect(mailMessageId('0190a1b2-0000-7000-8000-000000000001', 4, 'blocked')).toBe(
      '<0190a1b2-0000-7000-8000-000000000001.4.blocked@ccx>',
    );
  });

  test('a mail handed over twice for the same transition goes out once', async () => {
    const m = mail('accepted', 'de');
    const first = await activities.sendSystemMail(m);
    await received(first.messageId);
    const second = await activities.sendSystemMail(m);
    expect(second.messageId).toBe(first.messageId);
    await new Promise((r) => setTimeout(r, 300)); // several dispatcher passes
    expect(smtp.countOf(first.messageId)).toBe(1);
  });

  test('a later transition of the same connection sends the same template again', async () => {
    const m = mail('blocked', 'en');
    const first = await activities.sendSystemMail(m);
    const later = await activities.sendSystemMail({ ...m, transition: 3 });
    expect(later.skipped).toBe(false);
    expect(later.messageId).not.toBe(first.messageId);
    await received(later.messageId);
  });

  test('a sent mail is recorded under its Message-ID', async () => {
    const m = mail('ended', 'en');
    const { messageId } = await activities.sendSystemMail(m);
    const subject = (await received(messageId)).subject;
    await expect.poll(async () => (await findMail(handle.db, messageId))?.state).toBe('sent');
    expect(await findMail(handle.db, messageId)).toMatchObject({
      connection_id: m.connectionId,
      template: 'ended',
      recipient: m.recipient.email,
      language: 'en',
      subject,
      attempts: 1,
      send_count: 1,
      last_error: null,
    });
  });
});

describe('mail texts', () => {
  const data = (language: Language, offerAccess = true) => {
    const m = mail('invitation', language, { offerAccess });
    return { recipient: m.recipient, other: m.other, connectionId: m.connectionId, offerAccess, expiresAt: m.expiresAt };
  };

  test('every template has its own subject in each language', () => {
    const subjects = cases.map(({ template, language }) => renderMail(template, language, data(language)).subject);
    expect(new Set(subjects).size).toBe(cases.length);
  });

  test('the invitation states until when it can be answered, in the recipient’s language', () => {
    expect(renderMail('invitation', 'de', data('de')).text).toContain('bis zum 27. Dezember 2026 um 14:05 UTC');
    expect(renderMail('invitation', 'en', data('en')).text).toContain('by 27 December 2026 at 14:05 UTC');
  });

  test.for(['de', 'en'] as const)('the offer access mail says whether access is now on or off (%s)', (language) => {
    const on = renderMail('offerAccessChanged', language, data(language, true));
    const off = renderMail('offerAccessChanged', language, data(language, false));
    expect(on.subject).toContain(language === 'de' ? 'freigegeben' : 'granted');
    expect(off.subject).toContain(language === 'de' ? 'entzogen' : 'revoked');
    expect(on.text).not.toContain(language === 'de' ? 'entzogen' : 'revoked');
    expect(off.text).toContain(language === 'de' ? 'entzogen' : 'revoked');
  });

  test.for([
    ['de', ['Verkauf Ihrer Angebote durch Harbour Press (Bestellung ORD-7)', 'Bestellung ORD-7', '- Partnerabo (OFFER-1): 19,99 €, Ihr Anteil 13,99 €', '- Print (OFFER-2): 1.200,00 €, Ihr Anteil 600,00 €', 'Ihr Anteil insgesamt: 613,99 €']],
    ['en', ['Harbour Press sold your offers (order ORD-7)', 'order ORD-7', '- Partnerabo (OFFER-1): €19.99, your share €13.99', '- Print (OFFER-2): €1,200.00, your share €600.00', 'Your share in total: €613.99']],
  ] as const)('the sale mail names both clients, the order, each offer sold with amount and share (%s)', ([language, expected]) => {
    const d = data(language);
    const sale = { orderId: 'ORD-7', currency: 'EUR', items: [
      { offerId: 'OFFER-1', title: 'Partnerabo', amountMinor: 1999, shareMinor: 1399 },
      { offerId: 'OFFER-2', title: 'Print', amountMinor: 120_000, shareMinor: 60_000 },
    ] };
    const { subject, text } = renderMail('saleRecorded', language, { ...d, sale });
    expect(subject).toBe(expected[0]);
    for (const line of expected.slice(1)) expect(text).toContain(line);
    expect(text).toContain(`${d.recipient.name} (${d.recipient.clientId})`);
    expect(text).toContain(`${d.other.name} (${d.other.clientId})`);
    // minor units follow the currency: yen have none
    expect(renderMail('saleRecorded', language, { ...d, sale: { ...sale, currency: 'JPY' } }).text).toMatch(/1[.,]999/);
  });

  test('the Message-ID of a sale mail is derived from seller, order, source and template', () => {
    expect(saleMailMessageId('SELLER1', 'ORD-7', 'SOURCE1', 'saleRecorded')).toBe('<purchase.SELLER1.ORD-7.SOURCE1.saleRecorded@ccx>');
  });
});
