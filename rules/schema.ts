/**
 * The shape of a rule-set document, as a zod schema: strict everywhere, so a misspelt section,
 * event or field is an error rather than a silently ignored rule. The semantic checks (CEL,
 * durations, ids) run separately in the loader so that one load reports every problem.
 */
import { z } from 'zod';
import { closest, didYouMean, type RulesErrorCode } from './errors.ts';
import { GUARD_EVENTS } from './facts.ts';
import { MAIL_TEMPLATE_NAMES, NOTIFICATION_EVENTS, RECIPIENTS, RULE_CODES, RULES_LANGUAGE_VERSION } from './model.ts';

export const SECTIONS = ['version', 'name', 'description', 'guards', 'timers', 'notifications', 'payouts'] as const;
const GUARD_FIELDS = ['id', 'require', 'message', 'code'] as const;
const NOTIFICATION_FIELDS = ['template', 'recipient', 'enabled'] as const;
const PAYOUT_FIELDS = ['id', 'when', 'shareBasisPoints'] as const;
const TIMER_FIELDS = ['invitationTtl'] as const;

/** A CEL expression; YAML turns `when: true` or `shareBasisPoints: 10000` into a bool or number. */
const celExpression = z.union([z.string(), z.number(), z.boolean()]);

const guardRule = z.strictObject({ id: z.string(), require: celExpression, message: z.string(), code: z.enum(RULE_CODES).optional() });
const notification = z.strictObject({
  template: z.enum(MAIL_TEMPLATE_NAMES),
  recipient: z.enum(RECIPIENTS),
  enabled: z.boolean().optional(),
});
const payoutRule = z.strictObject({ id: z.string(), when: celExpression, shareBasisPoints: celExpression });

export const ruleSetSchema = z.strictObject({
  version: z.literal(RULES_LANGUAGE_VERSION),
  name: z.string().min(1),
  description: z.string().optional(),
  guards: z.strictObject(Object.fromEntries(GUARD_EVENTS.map((e) => [e, z.array(guardRule).nullish()]))).nullish(),
  timers: z.strictObject({ invitationTtl: z.string() }),
  notifications: z.strictObject(Object.fromEntries(NOTIFICATION_EVENTS.map((e) => [e, notification.optional()]))).nullish(),
  payouts: z.array(payoutRule).nullish(),
});

/**
 * Commands a rule set must never be able to refuse: a party can always block and always leave,
 * whatever policy is published (and a guard that errors would refuse them too).
 */
const UNGUARDABLE: Record<string, string> = {
  'connection.block': 'a party can always block a connection; remove this guard (a rule set cannot veto it)',
  'connection.end': 'a party can always end a connection; remove this guard (a rule set cannot veto it)',
};

export type Path = ReadonlyArray<string | number>;

/** `guards.connection.invite[0].require` */
export function formatPath(path: Path): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '') || '(document)';
}

/** The keys allowed in the map at `path`, for "did you mean" hints. */
export function keysAt(path: Path): readonly string[] {
  const [section, , index] = path;
  if (path.length === 0) return SECTIONS;
  if (section === 'guards') return path.length === 1 ? GUARD_EVENTS : index !== undefined ? GUARD_FIELDS : [];
  if (section === 'notifications') return path.length === 1 ? NOTIFICATION_EVENTS : NOTIFICATION_FIELDS;
  if (section === 'payouts' && path.length === 2) return PAYOUT_FIELDS;
  if (section === 'timers') return TIMER_FIELDS;
  return [];
}

export interface IssueSpec {
  code: RulesErrorCode;
  message: string;
  hint?: string;
  /** The issue is about this key of the map at the issue's path (unknown keys). */
  key?: string;
  /** The value is absent: point at the enclosing map instead. */
  missing?: boolean;
}

const typeName = (v: unknown): string =>
  v === null ? 'empty' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : `a ${typeof v}`;

const expectedName: Record<string, string> = {
  array: 'a list', object: 'a map', string: 'text', boolean: 'true or false', number: 'a number',
};

const VALUE_CODES: Record<string, [RulesErrorCode, string]> = {
  code: ['RULES_BAD_CODE', 'error code'],
  template: ['RULES_BAD_TEMPLATE', 'mail template'],
  recipient: ['RULES_BAD_RECIPIENT', 'recipient'],
  version: ['RULES_BAD_VERSION', 'language version'],
};

/** Turns one zod issue into rules errors (one per unknown key). `valueAt` reads the parsed YAML. */
export function issueSpecs(issue: z.core.$ZodIssue, valueAt: (path: Path) => unknown): IssueSpec[] {
  const path = issue.path as Path;
  const last = path.at(-1);
  const value = valueAt(path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysAt(path);
      const [code, what]: [RulesErrorCode, string] =
        path.length === 0 ? ['RULES_UNKNOWN_SECTION', 'section']
          : path.length === 1 && (path[0] === 'guards' || path[0] === 'notifications') ? ['RULES_UNKNOWN_EVENT', 'event']
            : ['RULES_UNKNOWN_FIELD', 'field'];
      return issue.keys.map((key) =>
        path.length === 1 && path[0] === 'guards' && UNGUARDABLE[key]
          ? { code: 'RULES_UNGUARDABLE_EVENT' as const, key, message: `\`${key}\` cannot be guarded`, hint: UNGUARDABLE[key] }
          : { code, key, message: `unknown ${what} \`${key}\``, hint: didYouMean(key, allowed) },
      );
    }
    case 'invalid_type':
      if (value === undefined) {
        return [{ code: 'RULES_MISSING_FIELD', missing: true, message: `missing \`${String(last)}\`` }];
      }
      return [{
        code: 'RULES_BAD_TYPE',
        message: `\`${formatPath(path)}\` must be ${expectedName[issue.expected] ?? issue.expected}, not ${typeName(value)}`,
      }];
    case 'invalid_union':
      return [{ code: 'RULES_BAD_TYPE', message: `\`${formatPath(path)}\` must be a CEL expression, not ${typeName(value)}` }];
    case 'invalid_value': {
      if (value === undefined) {
        return [{ code: 'RULES_MISSING_FIELD', missing: true, message: `missing \`${String(last)}\``, hint: `expected one of: ${issue.values.map(String).join(', ')}` }];
      }
      const [code, what] = VALUE_CODES[String(last)] ?? ['RULES_BAD_VALUE', `value for \`${String(last)}\``];
      const allowed = issue.values.map(String);
      const suggestion = typeof value === 'string' ? closest(value, allowed) : undefined;
      return [{
        code,
        message: `unknown ${what} \`${String(value)}\``,
        hint: suggestion ? `did you mean \`${suggestion}\`?` : `expected one of: ${allowed.join(', ')}`,
      }];
    }
    default:
      return [{ code: 'RULES_BAD_VALUE', message: `\`${formatPath(path)}\`: ${issue.message}` }];
  }
}
