/**
 * The audit log's vocabulary (docs/architecture.md "Audit log"): who changed policy, modules, keys
 * or money state. Each entry names the actor (a principal, and the key it used), the action, what
 * it was done to (`subject`) and the facts of the change (`details`).
 */
export const AUDIT_ACTIONS = [
  'rule-set.published', // a rule set stored and made the active one (subject: its version)
  'rule-set.activated', // a published version made the active one again (roll back or forward; subject: its version)
  'rule-set.upgraded', // a running connection or cart moved to the active rule set (subject: the workflow id)
  'module.switched', // a contract module switched on or off (subject: `<company>/<module>`)
  'api-key.created', // subject: the key id; details.principal: whom it acts as
  'api-key.revoked', // subject: the key id
  'payout.marked-paid', // rows set OPEN → PAID (subject: the row id, or none for mark-paid)
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who did it: a principal (`operator`, `client:<id>`, `cli:<os user>`, `system`) and the key it used, if any. */
export interface AuditActor {
  principal: string;
  keyId: string | null;
}

/** What the stack does by itself: boot publishing the default rule set, the first operator key. */
export const SYSTEM_ACTOR: AuditActor = { principal: 'system', keyId: null };

export interface AuditChange {
  action: AuditAction;
  subject: string | null;
  details: Record<string, unknown>;
}

export interface AuditEntry extends AuditChange {
  id: string;
  at: string;
  actor: string;
  keyId: string | null;
}
