/**
 * Dates and amounts in a mail, in the recipient's locale. Intl formatters are costly to build
 * (locale data is resolved each time) and immutable once built: one per locale, and per locale
 * and currency, for the life of the process.
 */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const moneyFormats = new Map<string, { format: Intl.NumberFormat; digits: number }>();

/** Date and time in UTC, the month spelled out, the zone named. */
export function formatDate(locale: string, iso: string): string {
  let format = dateFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC', timeZoneName: 'short' });
    dateFormats.set(locale, format);
  }
  return format.format(new Date(iso));
}

/** Minor units as the currency's amount ("13,99 €"), with an ordinary space where Intl puts a (narrow) no-break one: plain text. */
export function formatMoney(locale: string, minor: number, currency: string): string {
  const key = `${locale} ${currency}`;
  let money = moneyFormats.get(key);
  if (!money) {
    const format = new Intl.NumberFormat(locale, { style: 'currency', currency });
    money = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 };
    moneyFormats.set(key, money);
  }
  return money.format.format(minor / 10 ** money.digits).replace(/[\u00a0\u202f]/g, ' ');
}
