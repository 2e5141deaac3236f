import { describe, expect, test } from 'vitest';
import { parseDuration } from '../../rules/duration.ts';
import { compile, errorsOf, evaluatorFor, HEADER } from './support.ts';

const withTtl = (ttl: string) => HEADER.replace('invitationTtl: P30D', `invitationTtl: ${ttl}`);

describe('timers', () => {
  test.each([
    ['P30D', 30 * 24 * 3600 * 1000],
    ['PT2S', 2000],
    ['P2W', 14 * 24 * 3600 * 1000],
    ['P1DT12H', 36 * 3600 * 1000],
    ['PT90M', 90 * 60 * 1000],
    ['PT1.5S', 1500],
  ])('an invitation TTL of %s lasts %d ms', (ttl, ms) => {
    expect(evaluatorFor(withTtl(ttl)).invitationTtlMs()).toBe(ms);
  });

  test('the compiled rule set keeps the TTL as written and in milliseconds', () => {
    expect(compile(withTtl('PT2S')).timers).toEqual({ invitationTtl: 'PT2S', invitationTtlMs: 2000 });
  });

  test.each(['30 days', 'P', 'PT', '30D', 'P-1D', 'p30d'])('%s is not a duration', (ttl) => {
    expect(errorsOf(withTtl(ttl))[0]).toMatchObject({ code: 'RULES_BAD_DURATION' });
  });

  test.each(['P1M', 'P1Y', 'P1Y2M'])('%s is refused: months and years have no fixed length', (ttl) => {
    expect(errorsOf(withTtl(ttl))[0]).toMatchObject({ code: 'RULES_BAD_DURATION', hint: expect.stringContaining('P30D') });
  });

  test('a TTL below one second or above a year is refused', () => {
    expect(errorsOf(withTtl('PT0.5S'))[0]).toMatchObject({ code: 'RULES_BAD_DURATION' });
    expect(errorsOf(withTtl('P400D'))[0]).toMatchObject({ code: 'RULES_BAD_DURATION' });
  });

  test('the invitation TTL is required', () => {
    expect(errorsOf(HEADER.replace('timers:\n  invitationTtl: P30D\n', ''))[0]).toMatchObject({ code: 'RULES_MISSING_FIELD', message: 'missing `timers`' });
  });

  test('a TTL written as a number is a type error, not a silent default', () => {
    expect(errorsOf(withTtl('30'))[0]).toMatchObject({ code: 'RULES_BAD_TYPE' });
  });

  test('parsing a duration never depends on the calendar', () => {
    expect(parseDuration('P1W')).toEqual({ ok: true, ms: 7 * 24 * 3600 * 1000 });
  });
});
