/**
 * The checks zod cannot express: every CEL expression type-checked against its event's facts,
 * message interpolations, durations, rule ids, limits. Walks the raw parsed YAML tolerantly —
 * even when the schema already failed — so one load reports every problem at once.
 */
import { parseDuration } from './duration.ts';
import { checkExpression, type Expectation } from './expressions.ts';
import { GUARD_EVENTS, type FactScope, type GuardEvent } from './facts.ts';
import { LIMITS } from './model.ts';
import type { Path } from './schema.ts';
import { parseTemplate } from './template.ts';
import type { Locator } from './yaml-locate.ts';

const ID = /^[a-z0-9][a-z0-9-]*$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCel = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);

export function checkRules(data: unknown, at: Locator): void {
  if (!isRecord(data)) return;
  const ids = new Map<string, string>();
  const guards = data.guards;
  if (isRecord(guards)) {
    for (const event of GUARD_EVENTS) {
      const rules = guards[event];
      if (!Array.isArray(rules)) continue;
      if (rules.length > LIMITS.rulesPerEvent) {
        at.report(['guards', event], { code: 'RULES_LIMIT', message: `${rules.length} guards for ${event}; the limit is ${LIMITS.rulesPerEvent}` });
      }
      rules.forEach((rule, i) => checkGuard(rule, ['guards', event, i], event, ids, at));
    }
  }
  checkTimers(data.timers, at);
  const payouts = data.payouts;
  if (Array.isArray(payouts)) {
    if (payouts.length > LIMITS.payoutRules) {
      at.report(['payouts'], { code: 'RULES_LIMIT', message: `${payouts.length} payout rules; the limit is ${LIMITS.payoutRules}` });
    }
    payouts.forEach((rule, i) => checkPayout(rule, ['payouts', i], ids, at));
  }
}

function checkGuard(rule: unknown, path: Path, event: GuardEvent, ids: Map<string, string>, at: Locator): void {
  if (!isRecord(rule)) return;
  checkId(rule.id, path, ids, at);
  if (isCel(rule.require)) expression(String(rule.require), [...path, 'require'], event, 'bool', at);
  if (typeof rule.message === 'string') checkMessage(rule.message, [...path, 'message'], event, at);
}

function checkPayout(rule: unknown, path: Path, ids: Map<string, string>, at: Locator): void {
  if (!isRecord(rule)) return;
  checkId(rule.id, path, ids, at);
  if (isCel(rule.when)) expression(String(rule.when), [...path, 'when'], 'payout', 'bool', at);
  const share = rule.shareBasisPoints;
  if (!isCel(share)) return;
  // A literal share is checked for its range now; a computed one when it is evaluated.
  const literal = String(share).trim();
  if (/^-?\d+(\.\d+)?$/.test(literal) && !(/^\d+$/.test(literal) && Number(literal) <= 10000)) {
    at.report([...path, 'shareBasisPoints'], {
      code: 'RULES_BAD_VALUE',
      message: `share ${literal} is not a whole number of basis points between 0 and 10000`,
      hint: '10000 basis points are 100 %, 2500 are 25 %',
    });
    return;
  }
  expression(String(share), [...path, 'shareBasisPoints'], 'payout', 'int', at);
}

function checkId(id: unknown, path: Path, ids: Map<string, string>, at: Locator): void {
  if (typeof id !== 'string') return;
  const idPath = [...path, 'id'];
  if (!ID.test(id) || id.length > LIMITS.idLength) {
    at.report(idPath, {
      code: 'RULES_BAD_ID',
      message: `rule id \`${id}\` must be kebab-case (a-z, 0-9, -) and at most ${LIMITS.idLength} characters`,
      hint: `e.g. \`${id.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'my-rule'}\``,
    });
  }
  const first = ids.get(id);
  if (first) at.report(idPath, { code: 'RULES_DUPLICATE_ID', message: `rule id \`${id}\` is already used at ${first}` });
  else ids.set(id, path.map(String).join('.'));
}

function checkMessage(message: string, path: Path, scope: FactScope, at: Locator): void {
  if (message.length > LIMITS.messageLength) {
    at.report(path, { code: 'RULES_LIMIT', message: `message is ${message.length} characters long; the limit is ${LIMITS.messageLength}` });
    return;
  }
  const parsed = parseTemplate(message);
  if (!parsed.ok) {
    at.report(path, { code: 'RULES_BAD_INTERPOLATION', message: parsed.reason, inValue: { start: parsed.offset, end: parsed.offset + 2 }, hint: 'write a literal `{{` as {{ "{{" }}' });
    return;
  }
  for (const part of parsed.parts) {
    if (part.kind === 'expr') expression(part.source, path, scope, 'text', at, part.offset);
  }
}

function expression(expr: string, path: Path, scope: FactScope, expect: Expectation, at: Locator, offset = 0): void {
  for (const p of checkExpression(expr, scope, expect)) {
    at.report(path, {
      code: p.code,
      message: p.message,
      ...(p.hint ? { hint: p.hint } : {}),
      inValue: { start: offset + p.start, end: offset + Math.max(p.end, p.start + 1) },
    });
  }
}

function checkTimers(timers: unknown, at: Locator): void {
  if (!isRecord(timers) || typeof timers.invitationTtl !== 'string') return;
  const path = ['timers', 'invitationTtl'];
  const d = parseDuration(timers.invitationTtl);
  if (!d.ok) {
    at.report(path, { code: 'RULES_BAD_DURATION', message: `\`${timers.invitationTtl}\` is not a valid duration`, hint: d.reason });
  } else if (d.ms < LIMITS.minTtlMs || d.ms > LIMITS.maxTtlMs) {
    at.report(path, { code: 'RULES_BAD_DURATION', message: `invitation TTL ${timers.invitationTtl} is outside PT1S..P366D` });
  }
}
