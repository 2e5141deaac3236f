/**
 * Evaluating a compiled rule set. Bundled into Temporal's workflow sandbox: no Node built-ins,
 * no YAML, no I/O, no clock — the same facts give the same verdict in every replay. Every CEL
 * expression is parsed once, when the evaluator is created; the loader already proved the
 * types, so evaluation runs untyped over plain objects (cel-js's fastest path). A rule that
 * fails at run time (a missing fact, an out-of-range share) never throws: a guard then refuses
 * (fail closed) and a payout reports the error.
 */
import type { ParseResult } from '@marcbachmann/cel-js';
import { createRuntimeEnv } from './cel-env.ts';
import { explainRules, type RuleVerdict } from './explain.ts';
import { factsConverter, GUARD_EVENTS, type GuardEvent, type GuardFacts, type PayoutFacts } from './facts.ts';
import {
  NOTIFICATION_EVENTS, RULE_CODES, type CompiledNotification, type CompiledRuleSet, type NotificationEvent, type RuleCode,
} from './model.ts';
import { formatValue, parseTemplate } from './template.ts';
import type { GuardVerdict, PayoutShare } from './verdicts.ts';

export type { GuardVerdict, PayoutShare };

export type { RuleVerdict } from './explain.ts';

export interface Explanation<V> {
  ruleSet: { name: string; hash: string };
  scope: GuardEvent | 'payout';
  /** Every rule, in order, evaluated even after the first refusal. */
  rules: RuleVerdict[];
  result: V;
}

export interface RulesEvaluator {
  readonly hash: string;
  readonly name: string;
  /** The first failing guard of the event, with its message interpolated; rules run in file order. */
  checkGuards<E extends GuardEvent>(event: E, facts: GuardFacts[E]): GuardVerdict;
  explain<E extends GuardEvent>(event: E, facts: GuardFacts[E]): Explanation<GuardVerdict>;
  invitationTtlMs(): number;
  /** How the mail of a lifecycle event goes out; null: the rule set routes none (no mail). */
  notification(event: NotificationEvent): CompiledNotification | null;
  /** The share of one cross-client purchase item: the first payout rule whose `when` holds. */
  payoutShare(facts: PayoutFacts): PayoutShare;
  explainPayout(facts: PayoutFacts): Explanation<PayoutShare>;
}

export class RuleSetInvalidError extends Error {
  override readonly name = 'RuleSetInvalidError';
}

type Expr = ParseResult;
type Message = string | Array<string | Expr>;
interface Guard { id: string; code: RuleCode; require: Expr; source: string; message: Message }
interface Payout { id: string; when: Expr; share: Expr; whenSource: string; shareSource: string }

const ALLOWED: GuardVerdict = Object.freeze({ allowed: true });
const describe = (e: unknown) => (e instanceof Error ? ((e as { summary?: string }).summary ?? e.message) : String(e));

export function createEvaluator(ruleSet: CompiledRuleSet): RulesEvaluator {
  assertShape(ruleSet);
  const env = createRuntimeEnv();
  const parse = (source: string, where: string): Expr => {
    try {
      return env.parse(source);
    } catch (error) {
      throw new RuleSetInvalidError(`${where}: ${describe(error)}`);
    }
  };
  const message = (text: string, where: string): Message => {
    const t = parseTemplate(text);
    if (!t.ok) throw new RuleSetInvalidError(`${where}: ${t.reason}`);
    if (t.parts.every((p) => p.kind === 'text')) return text;
    return t.parts.map((p) => (p.kind === 'text' ? p.text : parse(p.source, where)));
  };
  const guards = new Map<GuardEvent, Guard[]>();
  for (const event of GUARD_EVENTS) {
    const list = ruleSet.guards[event];
    if (!list?.length) continue;
    guards.set(event, list.map((g) => ({
      id: g.id, code: g.code, source: g.require,
      require: parse(g.require, `guard ${g.id}`), message: message(g.message, `guard ${g.id}`),
    })));
  }
  const payouts: Payout[] = ruleSet.payouts.map((p) => ({
    id: p.id, whenSource: p.when, shareSource: p.shareBasisPoints,
    when: parse(p.when, `payout ${p.id}`), share: parse(p.shareBasisPoints, `payout ${p.id}`),
  }));
  const converters = new Map(GUARD_EVENTS.map((e) => [e, factsConverter(e)] as const));
  const convertPayout = factsConverter('payout');
  const notifications = new Map<NotificationEvent, CompiledNotification>();
  for (const e of NOTIFICATION_EVENTS) {
    const n = ruleSet.notifications[e];
    if (n) notifications.set(e, Object.freeze({ ...n }));
  }

  const render = (m: Message, ctx: Record<string, unknown>): string => {
    if (typeof m === 'string') return m;
    let out = '';
    for (const part of m) {
      if (typeof part === 'string') out += part;
      else {
        try {
          out += formatValue(part(ctx));
        } catch {
          out += '?'; // a message must still be produced when a fact for it is missing
        }
      }
    }
    return out;
  };

  const verdictOf = (g: Guard, ctx: Record<string, unknown>): GuardVerdict => {
    let result: unknown;
    try {
      result = g.require(ctx);
    } catch (error) {
      return { allowed: false, rule: g.id, code: 'RULE_REJECTED', message: `rule \`${g.id}\` could not be evaluated: ${describe(error)}`, failure: 'error' };
    }
    return result === true ? ALLOWED : { allowed: false, rule: g.id, code: g.code, message: render(g.message, ctx), failure: 'rejected' };
  };

  const convert = (fn: (f: object) => Record<string, unknown>, facts: object, rule: string): Record<string, unknown> | GuardVerdict => {
    try {
      return fn(facts);
    } catch (error) {
      return { allowed: false, rule, code: 'RULE_REJECTED', message: `facts cannot be read: ${describe(error)}`, failure: 'error' };
    }
  };

  const shareOf = (p: Payout, ctx: Record<string, unknown>): PayoutShare | null => {
    try {
      if (p.when(ctx) !== true) return null;
      const bp: unknown = p.share(ctx);
      if (typeof bp !== 'bigint' || bp < 0n || bp > 10000n) {
        return { ok: false, ruleId: p.id, error: `share must be an int between 0 and 10000 basis points, got ${formatValue(bp)}` };
      }
      const amount = (ctx.item as { amountMinor?: unknown } | undefined)?.amountMinor;
      if (typeof amount !== 'bigint') return { ok: false, ruleId: p.id, error: 'item.amountMinor is missing' };
      return { ok: true, ruleId: p.id, shareBasisPoints: Number(bp), shareMinor: Number(roundedShare(amount, bp)) };
    } catch (error) {
      return { ok: false, ruleId: p.id, error: describe(error) };
    }
  };

  const evaluator: RulesEvaluator = {
    hash: ruleSet.hash,
    name: ruleSet.name,
    checkGuards(event, facts) {
      const list = guards.get(event);
      if (list === undefined) return ALLOWED;
      const ctx = convert(converters.get(event)!, facts, list[0]!.id);
      if ('allowed' in ctx) return ctx as GuardVerdict;
      for (const g of list) {
        const verdict = verdictOf(g, ctx);
        if (verdict !== ALLOWED) return verdict;
      }
      return ALLOWED;
    },
    explain(event, facts) {
      const list = guards.get(event) ?? [];
      const ctx = convert(converters.get(event)!, facts, list[0]?.id ?? event);
      const result = evaluator.checkGuards(event, facts);
      const rules = 'allowed' in ctx ? [] : explainRules(env, list.map((g) => ({ id: g.id, source: g.source, verdict: verdictOf(g, ctx) })), ctx);
      return { ruleSet: { name: ruleSet.name, hash: ruleSet.hash }, scope: event, rules, result };
    },
    invitationTtlMs: () => ruleSet.timers.invitationTtlMs,
    notification: (event) => notifications.get(event) ?? null,
    payoutShare(facts) {
      let ctx: Record<string, unknown>;
      try {
        ctx = convertPayout(facts);
      } catch (error) {
        return { ok: false, ruleId: payouts[0]?.id ?? '', error: `facts cannot be read: ${describe(error)}` };
      }
      for (const p of payouts) {
        const share = shareOf(p, ctx);
        if (share) return share;
      }
      return { ok: true, ruleId: null, shareBasisPoints: 0, shareMinor: 0 };
    },
    explainPayout(facts) {
      const result = evaluator.payoutShare(facts);
      let ctx: Record<string, unknown> | null = null;
      try {
        ctx = convertPayout(facts);
      } catch {
        ctx = null;
      }
      const rules = ctx ? explainRules(env, payouts.map((p) => ({ id: p.id, source: p.whenSource, share: shareOf(p, ctx!), shareSource: p.shareSource })), ctx) : [];
      return { ruleSet: { name: ruleSet.name, hash: ruleSet.hash }, scope: 'payout', rules, result };
    },
  };
  return evaluator;
}

/** `createEvaluator` without the throw: for workflow code, where a stray exception retries forever. */
export function tryCreateEvaluator(ruleSet: CompiledRuleSet): { ok: true; evaluator: RulesEvaluator } | { ok: false; error: string } {
  try {
    return { ok: true, evaluator: createEvaluator(ruleSet) };
  } catch (error) {
    return { ok: false, error: describe(error) };
  }
}

/** amount × bp / 10000, rounded half away from zero to the minor unit (docs/architecture.md "Domain"). */
export function roundedShare(amountMinor: bigint, basisPoints: bigint): bigint {
  const product = amountMinor * basisPoints;
  const quotient = product / 10000n;
  const remainder = product % 10000n;
  const twice = (remainder < 0n ? -remainder : remainder) * 2n;
  if (twice < 10000n) return quotient;
  return product < 0n ? quotient - 1n : quotient + 1n;
}

/** The compiled form crosses Temporal as input: check its shape before trusting it. */
function assertShape(r: CompiledRuleSet): void {
  const fail = (why: string): never => {
    throw new RuleSetInvalidError(`not a compiled rule set: ${why}`);
  };
  if (!r || typeof r !== 'object' || r.format !== 1) fail('format must be 1');
  if (typeof r.hash !== 'string' || typeof r.name !== 'string') fail('hash and name are required');
  if (!r.guards || typeof r.guards !== 'object') fail('guards missing');
  for (const [event, list] of Object.entries(r.guards)) {
    if (!GUARD_EVENTS.includes(event as GuardEvent) || !Array.isArray(list)) fail(`unknown guard event ${event}`);
    for (const g of list!) if (!(RULE_CODES as readonly string[]).includes(g.code)) fail(`guard ${g.id} has code ${g.code}`);
  }
  if (!(r.timers?.invitationTtlMs > 0)) fail('timers.invitationTtlMs must be positive');
  if (!r.notifications || typeof r.notifications !== 'object') fail('notifications missing');
  if (!Array.isArray(r.payouts)) fail('payouts missing');
}
