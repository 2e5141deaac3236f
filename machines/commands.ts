/**
 * The shape of a lifecycle command, declared once per command (docs/architecture.md "One
 * declaration per command"). Everything else is derived from the declaration: the machine's event
 * type, the Temporal update and its handler, the HTTP route and its OpenAPI operation, and the
 * rule-set events (`<machine>.<command>`) a rule set may guard or route a mail for. Pure data
 * plus zod schemas: safe in the workflow sandbox.
 */
import type { z } from 'zod';

/**
 * The effect every machine names when a transition owes a system mail for the event that caused
 * it. The workflow asks the pinned rule set whether it goes out, with which template, to whom.
 */
export const NOTIFY = 'notify';

export interface CommandSpec {
  /** OpenAPI summary, in the domain's words. */
  summary: string;
  /** Who may send it, in words (the machine's guards decide; a test holds the two together). */
  who: string;
  /** The HTTP route, relative to the entity's resource (`/v1/connections/{id}` + path). */
  http: { method: 'POST' | 'PATCH' | 'PUT'; path: string };
  /** Fields the command carries besides the entity id and the actor: the HTTP body and the update args. */
  body?: z.ZodObject;
  /**
   * The update's fields when the API resolves the body into more than it says (a cart's offer ids
   * become items with titles, prices and owners); default: the body itself.
   */
  fields?: z.ZodObject;
  /** The rule set may guard it (`guards.<machine>.<command>`), checked after the machine's own rules. */
  guarded?: boolean;
  /** It owes a system mail: `notifications.<machine>.<command>` routes it (none listed: no mail). */
  mails?: boolean;
}

export type CommandTable = Readonly<Record<string, CommandSpec>>;

/** Keeps the literal keys and flags of a table for the derived types below. */
export const defineCommands = <const T extends CommandTable>(table: T): T => table;

/** The fields a command carries (its body), as the machine and the update see them. */
export type CommandFields<S extends CommandSpec> = S['fields'] extends z.ZodObject
  ? z.output<S['fields']>
  : S['body'] extends z.ZodObject
    ? z.output<S['body']>
    : Record<never, never>;

/** The machine event of each command: `{type, actor, ...fields}`. */
export type CommandEventOf<T extends CommandTable, Actor> = {
  [K in keyof T & string]: { type: K; actor: Actor } & CommandFields<T[K]>;
}[keyof T & string];

/** Names of the commands whose flag `F` is true. */
export type FlaggedCommands<T extends CommandTable, F extends 'guarded' | 'mails'> = {
  [K in keyof T & string]: T[K][F] extends true ? K : never;
}[keyof T & string];

export const commandNames = <T extends CommandTable>(table: T): Array<keyof T & string> => Object.keys(table);

/** Names of the commands whose flag is set, at run time (same as `FlaggedCommands`). */
export const flaggedCommands = <T extends CommandTable, F extends 'guarded' | 'mails'>(table: T, flag: F): Array<FlaggedCommands<T, F>> =>
  commandNames(table).filter((name) => table[name]![flag] === true) as Array<FlaggedCommands<T, F>>;

/**
 * The machine event a command's arguments make, or why they cannot make one. Arguments come from
 * the HTTP API (already checked) or from callers going to Temporal directly (checked here, so a
 * wrong field type is a clear refusal rather than a strange state).
 */
export function commandEvent<T extends CommandTable, Actor>(
  table: T,
  name: keyof T & string,
  input: { actor: Actor },
): { ok: true; event: CommandEventOf<T, Actor> } | { ok: false; message: string } {
  const spec = table[name];
  const args = (input ?? {}) as { actor?: unknown } & Record<string, unknown>;
  if (!spec) return { ok: false, message: `unknown command ${name}` };
  if (typeof args?.actor !== 'string' || args.actor.length === 0) return { ok: false, message: 'actor must be a non-empty string' };
  let fields: Record<string, unknown> = {};
  const schema = spec.fields ?? spec.body;
  if (schema) {
    // Only the command's own fields: the entity id and the actor travel beside them.
    const parsed = schema.safeParse(Object.fromEntries(Object.keys(schema.shape).filter((k) => k in args).map((k) => [k, args[k]])));
    if (!parsed.success) return { ok: false, message: parsed.error.issues.map((i) => `${i.path.join('.') || name}: ${i.message}`).join('; ') };
    fields = parsed.data as Record<string, unknown>;
  }
  return { ok: true, event: { ...fields, type: name, actor: args.actor } as CommandEventOf<T, Actor> };
}

/** Whether a command has a flag, narrowing its name to the flagged ones. */
export const hasFlag = <T extends CommandTable, F extends 'guarded' | 'mails'>(table: T, flag: F, name: keyof T & string): name is FlaggedCommands<T, F> =>
  (table[name] as CommandSpec | undefined)?.[flag] === true;
