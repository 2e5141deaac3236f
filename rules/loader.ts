/**
 * Loading a rule set: YAML → schema → semantic and CEL type checks → a JSON-safe
 * `CompiledRuleSet` whose `hash` (sha256 of the source) is its version. Used by the API
 * (`POST /v1/rule-sets`, the boot-time default) and the CLI (`ccx rules check|publish`); not by
 * workflows, which receive the compiled form as input. Never throws for bad input: every problem
 * comes back, each with file, line, column, a stable code and a caret excerpt.
 */
import { createHash } from 'node:crypto';
import { isPair, isScalar, parseDocument, visit } from 'yaml';
import { checkRules } from './check-rules.ts';
import { checkInvariants } from './invariants.ts';
import { parseDuration } from './duration.ts';
import { makeError, SourceLines, type RulesError, type RulesWarning } from './errors.ts';

export type { RulesWarning };
import type { GuardEvent } from './facts.ts';
import {
  DEFAULT_RULE_CODE, LIMITS, NOTIFICATION_EVENTS, SALE_MAIL_TEMPLATES, templateFitsEvent, type CompiledGuard,
  type CompiledNotification, type CompiledRuleSet, type NotificationEvent, type RuleCode,
} from './model.ts';
import { issueSpecs, ruleSetSchema, type Path } from './schema.ts';
import { Locator } from './yaml-locate.ts';
import { UNSTORABLE_TEXT, UNSTORABLE_TEXT_MESSAGE } from '../domain/text.ts';

export type LoadResult = { ok: true; ruleSet: CompiledRuleSet; warnings: RulesWarning[] } | { ok: false; errors: RulesError[] };

export interface LoadOptions {
  /** Shown in every error (`rules/default.rules.yaml:12:5 …`). */
  file?: string;
  /**
   * Require the guards no published rule set may weaken (rules/invariants.ts). Set by everything
   * that checks a rule set for publishing: publish, preview, activate, `ccx rules check`.
   */
  requireInvariants?: boolean;
}

export function loadRuleSet(source: string, options: LoadOptions = {}): LoadResult {
  const file = options.file ?? '<rules>';
  try {
    return load(source, file, options.requireInvariants === true);
  } catch (error) {
    // A defect of ours or of a library must still answer as a rules error, not a crash.
    const message = `the rule set could not be read: ${error instanceof Error ? error.message : String(error)}`;
    return { ok: false, errors: [makeError(new SourceLines(String(source)), file, { code: 'RULES_YAML_SYNTAX', message, path: '(document)', start: 0 })] };
  }
}

/** The loader as publishing uses it: the language's checks plus the invariants. */
export const loadPublishableRuleSet = (source: string, options: Omit<LoadOptions, 'requireInvariants'> = {}): LoadResult =>
  loadRuleSet(source, { ...options, requireInvariants: true });

function load(source: string, file: string, requireInvariants: boolean): LoadResult {
  if (typeof source !== 'string') {
    const error = makeError(new SourceLines(''), file, { code: 'RULES_BAD_TYPE', message: `a rule set is YAML text, not ${typeof source}`, path: '(document)', start: 0 });
    return { ok: false, errors: [error] };
  }
  if (source.length > LIMITS.sourceBytes) {
    const error = makeError(new SourceLines(source.slice(0, 200)), file, {
      code: 'RULES_LIMIT', message: `the rule set is ${source.length} characters long; the limit is ${LIMITS.sourceBytes}`, path: '(document)', start: 0,
    });
    return { ok: false, errors: [error] };
  }
  // logLevel 'error': the yaml package would otherwise print process warnings for odd keys.
  const doc = parseDocument(source, { uniqueKeys: true, prettyErrors: false, strict: true, logLevel: 'error' });
  const at = new Locator(source, file, doc);
  for (const e of doc.errors) at.reportAt('RULES_YAML_SYNTAX', e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), e.pos[0], e.pos[1]);
  // The source and the compiled form are stored: text PostgreSQL cannot store is refused, whether
  // written as is or as an escape ("\0", "\ud800") in a quoted scalar.
  const raw = UNSTORABLE_TEXT.exec(source);
  if (raw) at.reportAt('RULES_BAD_VALUE', `the rule set ${UNSTORABLE_TEXT_MESSAGE}`, raw.index, raw.index + 1);
  visit(doc, {
    Pair(_, pair) {
      if (!isPair(pair) || isScalar(pair.key) || pair.key === null) return;
      const range = (pair.key as { range?: [number, number] }).range ?? [0, 0];
      at.reportAt('RULES_BAD_TYPE', 'a key must be a plain name, not a map, list or alias', range[0], range[1]);
    },
    Scalar(_, scalar) {
      if (raw || typeof scalar.value !== 'string' || !UNSTORABLE_TEXT.test(scalar.value)) return;
      const range = scalar.range ?? [0, 0];
      at.reportAt('RULES_BAD_VALUE', `a value ${UNSTORABLE_TEXT_MESSAGE}`, range[0], range[1]);
    },
  });
  if (at.errors.length > 0) return { ok: false, errors: at.sorted() };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (error) {
    at.reportAt('RULES_LIMIT', `the rule set cannot be expanded: ${(error as Error).message}`, 0, 0);
    return { ok: false, errors: at.sorted() };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    at.report([], {
      code: 'RULES_BAD_TYPE',
      message: 'a rule set is a YAML map with the sections version, name, timers, notifications and optionally guards, payouts',
    });
    return { ok: false, errors: at.sorted() };
  }

  const valueAt = (path: Path): unknown => path.reduce<any>((v, k) => (v === null || typeof v !== 'object' ? undefined : v[k]), data);
  const parsed = ruleSetSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const spec of issueSpecs(issue, valueAt)) at.report(issue.path as Path, spec);
    }
  }
  checkRules(data, at);
  if (requireInvariants) checkInvariants(data, at);
  if (parsed.success) {
    for (const [event, n] of Object.entries(parsed.data.notifications ?? {}) as Array<[NotificationEvent, NotificationInput | undefined]>) {
      if (!n || templateFitsEvent(event, n.template)) continue;
      at.report(['notifications', event, 'template'], {
        code: 'RULES_BAD_TEMPLATE',
        message: `\`${event}\` cannot send the mail template \`${n.template}\`: it is written for ${event.startsWith('purchase.') ? 'connection events' : 'a sale'}`,
        hint: event.startsWith('purchase.') ? `use ${SALE_MAIL_TEMPLATES.map((t) => `\`${t}\``).join(', ')}` : 'use a connection mail template',
      });
    }
  }
  if (!parsed.success || at.errors.length > 0) return { ok: false, errors: at.sorted() };
  // A new command that mails must not invalidate every published rule set: unrouted, it sends
  // nothing, and the author hears about it here.
  for (const event of NOTIFICATION_EVENTS) {
    if (parsed.data.notifications?.[event]) continue;
    at.warn(['notifications'], 'RULES_NOTIFICATION_MISSING', `\`${event}\` owes a mail but is not listed: it sends none`, `add \`${event}: { template: …, recipient: …, enabled: false }\` to say so`);
  }
  return { ok: true, ruleSet: compile(parsed.data, createHash('sha256').update(source, 'utf8').digest('hex')), warnings: at.warnings };
}

type Parsed = ReturnType<typeof ruleSetSchema.parse>;
type GuardInput = { id: string; require: string | number | boolean; message: string; code?: RuleCode };
type NotificationInput = { template: CompiledNotification['template']; recipient: CompiledNotification['recipient']; enabled?: boolean };

function compile(data: Parsed, hash: string): CompiledRuleSet {
  const guards: Partial<Record<GuardEvent, CompiledGuard[]>> = {};
  for (const [event, rules] of Object.entries((data.guards ?? {}) as Record<string, GuardInput[] | null | undefined>)) {
    if (!rules || rules.length === 0) continue;
    guards[event as GuardEvent] = rules.map((r) => ({ id: r.id, require: String(r.require), message: r.message, code: r.code ?? DEFAULT_RULE_CODE }));
  }
  const notificationInput = (data.notifications ?? {}) as Record<string, NotificationInput | undefined>;
  const notifications: CompiledRuleSet['notifications'] = {};
  for (const event of NOTIFICATION_EVENTS) {
    const n = notificationInput[event];
    if (n) notifications[event] = { template: n.template, recipient: n.recipient, enabled: n.enabled ?? true };
  }
  const ttl = parseDuration(data.timers.invitationTtl);
  return {
    format: 1,
    hash,
    name: data.name,
    description: data.description ?? '',
    guards,
    timers: { invitationTtl: data.timers.invitationTtl, invitationTtlMs: ttl.ok ? ttl.ms : 0 },
    notifications,
    payouts: (data.payouts ?? []).map((p) => ({ id: p.id, when: String(p.when), shareBasisPoints: String(p.shareBasisPoints) })),
  };
}
