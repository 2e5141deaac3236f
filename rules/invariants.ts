/**
 * What no published rule set may weaken (issue 15): the contract module for an invitation and a
 * callback across contracting companies. They are guards of `connection.invite` today — written in
 * the rule set so that product owners read them where the rest of the policy is — and the loader
 * used for publishing requires them, first and unchanged, so clients keep today's refusals
 * (`CONTRACT_MODULE_INACTIVE`, `RULE_REJECTED` with `details.rule = "callback-required"`) whatever
 * a product owner publishes. Their messages may be reworded. The module check of `accept` is the
 * machine's own (machines/connection.machine.ts `isTargetWithModules`): no rule set reaches it.
 * Pure.
 */
import type { RuleCode } from './model.ts';
import type { Locator } from './yaml-locate.ts';

export interface InvariantGuard {
  id: string;
  require: string;
  code: RuleCode;
  message: string;
}

/** In this order, at the start of `guards.connection.invite` (the check order of docs/decisions.md). */
export const INVARIANT_GUARDS: readonly InvariantGuard[] = [
  {
    id: 'source-module-active',
    require: 'source.company.moduleActive',
    code: 'CONTRACT_MODULE_INACTIVE',
    message: 'the contract module CROSS_CLIENT_CONNECTIONS is not active for contracting company {{ source.company.id }}',
  },
  {
    id: 'target-module-active',
    require: 'source.company.id == target.company.id || target.company.moduleActive',
    code: 'CONTRACT_MODULE_INACTIVE',
    message: "the contract module CROSS_CLIENT_CONNECTIONS is not active for the target's contracting company",
  },
  {
    id: 'callback-required',
    require: 'source.company.id == target.company.id || connection.hasCallback',
    code: 'RULE_REJECTED',
    message: 'a connection to a client of another contracting company needs a callback {url, secret}',
  },
];

/** Spacing does not matter: `a||b` and `a || b` (or a folded YAML block) are the same expression. */
export const normalizeExpression = (expr: string): string => expr.replace(/\s*([^\w\s.])\s*/g, '$1').replace(/\s+/g, ' ').trim();

const yamlOf = (g: InvariantGuard): string =>
  `- id: ${g.id}\n  require: ${g.require}\n${g.code === 'RULE_REJECTED' ? '' : `  code: ${g.code}\n`}  message: ${JSON.stringify(g.message)}`;

/** Reports, with file:line:column, every invariant guard that is missing, moved or changed. */
export function checkInvariants(data: unknown, at: Locator): void {
  const guards = (data as { guards?: Record<string, unknown> } | null)?.guards;
  const invite = guards && typeof guards === 'object' ? guards['connection.invite'] : undefined;
  const list = Array.isArray(invite) ? (invite as Array<Record<string, unknown> | null>) : [];
  const indexOf = (id: string) => list.findIndex((item) => item?.id === id);
  INVARIANT_GUARDS.forEach((g, n) => {
    const index = indexOf(g.id);
    const rule = index >= 0 ? list[index]! : undefined;
    if (!rule) {
      // Point at the invite guards when there are any, else at the guards section, else the top.
      const path = Array.isArray(invite) ? ['guards', 'connection.invite'] : guards ? ['guards'] : [];
      at.report(path, {
        code: 'RULES_INVARIANT',
        message: `guard \`${g.id}\` of \`connection.invite\` is missing: every rule set keeps it, so that ${describe(g)}`,
        hint: `add it as guard ${n + 1} of connection.invite:\n${yamlOf(g).replace(/^/gm, '    ')}`,
        missing: !Array.isArray(invite),
      });
      return;
    }
    const path = ['guards', 'connection.invite', index];
    // Where it belongs among the invariant guards present (a missing one is reported on its own).
    const expected = INVARIANT_GUARDS.slice(0, n).filter((other) => indexOf(other.id) >= 0).length;
    if (index !== expected) {
      at.report([...path, 'id'], {
        code: 'RULES_INVARIANT',
        message: `guard \`${g.id}\` must be guard ${expected + 1} of \`connection.invite\` (it is ${index + 1}): another guard before it would change the refusal clients see`,
        hint: `move it up; add your own guards after ${INVARIANT_GUARDS.map((i) => `\`${i.id}\``).join(', ')}`,
      });
    }
    if (typeof rule.require !== 'string' || normalizeExpression(rule.require) !== normalizeExpression(g.require)) {
      at.report([...path, 'require'], {
        code: 'RULES_INVARIANT',
        message: `guard \`${g.id}\` must require exactly \`${g.require}\``,
        hint: 'this guard cannot be changed by a rule set; add a guard of your own for further conditions',
      });
    }
    if ((rule.code ?? 'RULE_REJECTED') !== g.code) {
      at.report([...path, rule.code === undefined ? 'id' : 'code'], {
        code: 'RULES_INVARIANT',
        message: `guard \`${g.id}\` must refuse with code ${g.code}: clients rely on it`,
        hint: g.code === 'RULE_REJECTED' ? 'remove its `code`' : `set \`code: ${g.code}\``,
      });
    }
  });
}

function describe(g: InvariantGuard): string {
  if (g.id === 'callback-required') return 'a connection across contracting companies always has a callback';
  return g.id === 'source-module-active'
    ? "no client invites while its company's contract module is off"
    : "nobody invites a client whose company's contract module is off";
}
