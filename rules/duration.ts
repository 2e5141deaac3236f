/**
 * ISO 8601 durations for rule-set timers. Only fixed-length units (weeks, days, hours, minutes,
 * seconds): years and months have no fixed length, and a TTL must mean the same in every replay.
 */

const PATTERN = /^P(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})(?:[.,](\d{1,3}))?S)?)?$/;

export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

export function parseDuration(text: string): DurationResult {
  if (/^P(?:\d+Y|(?:\d+Y)?\d+M)/.test(text)) {
    return { ok: false, reason: 'years and months have no fixed length; use weeks or days (e.g. P30D)' };
  }
  const m = PATTERN.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) {
    return { ok: false, reason: 'expected an ISO 8601 duration such as P30D, PT12H or PT2S' };
  }
  const n = (i: number) => Number(m[i] ?? 0);
  const millis = m[6] ? Number(m[6].padEnd(3, '0')) : 0;
  const ms = ((((n(1) * 7 + n(2)) * 24 + n(3)) * 60 + n(4)) * 60 + n(5)) * 1000 + millis;
  return { ok: true, ms };
}
