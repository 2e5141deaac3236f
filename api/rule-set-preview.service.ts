/**
 * Impact preview of a draft rule set (issue 15; `POST /v1/rule-sets/preview`, `ccx rules
 * preview`): the draft is checked as for publishing, then evaluated — pure rule functions only —
 * against the read model: open connections and open carts compared with the rule set each is
 * pinned to (what publishing *and* upgrading them changes), the mails and timers new connections
 * would get compared with the active rule set (publishing alone), and the payout rows of a recent
 * window (sales and renewals, less refunds and chargebacks) re-shared by the draft's payout rules. Pages by id, one page in memory at a time, within a
 * time budget; past it the answer says `partial`. Nothing is published and no workflow is asked:
 * the only write is what a publish naming the preview checks (its draft, the active version it was
 * compared with, whether it was complete), kept 30 days.
 */
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { getActiveCompiledRuleSet } from '../db/rule-set.repository.ts';
import {
  getCompiledRuleSet, insertPreview, offerOwners, openCartsPage, openConnectionsPage, paymentsPage,
} from '../db/rule-set-preview.repository.ts';
import type { Database } from '../db/schema.ts';
import type { AuditActor } from '../domain/audit.ts';
import { diffRuleSets, mailWords, type RuleSetChange } from '../rules/diff.ts';
import { createEvaluator, type RulesEvaluator } from '../rules/evaluator.ts';
import { loadPublishableRuleSet, type RulesWarning } from '../rules/loader.ts';
import { NOTIFICATION_EVENTS, type CompiledRuleSet } from '../rules/model.ts';
import { cartChanges, connectionChanges, draftShare, PayoutSums, type PayoutLine, type VerdictChange } from '../rules/preview.ts';
import { RuleSetRejectedError } from './rule-set.service.ts';

export const PREVIEW_DEFAULTS = { budgetMs: 50_000, windowDays: 30, pageSize: 1000 } as const;

export interface PreviewOptions {
  actor: AuditActor;
  /** Stop reading after this long and answer `partial: true`. */
  budgetMs?: number;
  /** The payout window [from, to); default the last 30 days. */
  from?: Date;
  to?: Date;
  pageSize?: number;
}

export interface PreviewResult {
  previewId: string;
  /** The draft's version (content hash): a publish naming this preview must send the same text. */
  version: string;
  name: string;
  /** The active version mails, timers and `changes` are compared with (null: none active). */
  activeVersion: string | null;
  /** The time budget ran out: the lists cover what `scanned` says, not the whole read model. */
  partial: boolean;
  scanned: { connections: number; carts: number; payments: number };
  connections: VerdictChange[];
  carts: VerdictChange[];
  mails: Array<{ event: string; current: string; draft: string }>;
  timers: { invitationTtl: { current: string | null; draft: string } };
  payoutWindow: { from: string; to: string };
  payouts: PayoutLine[];
  /** The draft against the active version, in words (rules/diff.ts). */
  changes: RuleSetChange[];
  warnings: RulesWarning[];
}

export async function previewRuleSet(db: Kysely<Database>, source: string, file: string, options: PreviewOptions): Promise<PreviewResult> {
  const loaded = loadPublishableRuleSet(source, { file });
  if (!loaded.ok) throw new RuleSetRejectedError(loaded.errors);
  const started = Date.now();
  const deadline = started + (options.budgetMs ?? PREVIEW_DEFAULTS.budgetMs);
  const pageSize = options.pageSize ?? PREVIEW_DEFAULTS.pageSize;
  const to = options.to ?? new Date(started);
  const from = options.from ?? new Date(to.getTime() - PREVIEW_DEFAULTS.windowDays * 86_400_000);

  const draft = createEvaluator(loaded.ruleSet);
  const active = (await getActiveCompiledRuleSet(db)) ?? null;
  const evaluators = new Map<string, RulesEvaluator | null>();
  if (active) evaluators.set(active.hash, createEvaluator(active));
  // The rule set an entity is pinned to; a version that is not stored (a direct Temporal caller's) compares with the active one.
  const pinned = async (version: string | null): Promise<RulesEvaluator> => {
    if (version !== null && !evaluators.has(version)) {
      const compiled = await getCompiledRuleSet(db, version);
      evaluators.set(version, compiled ? createEvaluator(compiled) : null);
    }
    return (version !== null ? evaluators.get(version) : null) ?? (active ? evaluators.get(active.hash)! : draft);
  };

  let partial = false;
  const inBudget = () => {
    if (Date.now() < deadline) return true;
    partial = true;
    return false;
  };
  const scanned = { connections: 0, carts: 0, payments: 0 };
  const connections: VerdictChange[] = [];
  const carts: VerdictChange[] = [];
  const sums = new PayoutSums();

  for (let after: string | null = null; inBudget();) {
    const page = await openConnectionsPage(db, after, pageSize);
    for (const c of page) connections.push(...connectionChanges(c, await pinned(c.ruleSetVersion), draft));
    scanned.connections += page.length;
    if (page.length < pageSize) break;
    after = page[page.length - 1]!.id;
  }
  for (let after: string | null = null; !partial && inBudget();) {
    const page = await openCartsPage(db, after, pageSize);
    for (const cart of page) carts.push(...cartChanges(cart, await pinned(cart.ruleSetVersion), draft));
    scanned.carts += page.length;
    if (page.length < pageSize) break;
    after = page[page.length - 1]!.id;
  }
  for (let after: string | null = null; !partial && inBudget();) {
    const page = await paymentsPage(db, { from, to }, after, pageSize);
    const owners = await offerOwners(db, page.flatMap((p) => p.order.items.map((i) => i.offerId)));
    for (const p of page) sums.add(p, draftShare(p, owners, draft));
    scanned.payments += page.length;
    if (page.length < pageSize) break;
    after = page[page.length - 1]!.rowId;
  }

  const result: PreviewResult = {
    previewId: uuidv7(),
    version: loaded.ruleSet.hash,
    name: loaded.ruleSet.name,
    activeVersion: active?.hash ?? null,
    partial,
    scanned,
    connections,
    carts,
    mails: mailChanges(active, loaded.ruleSet),
    timers: { invitationTtl: { current: active?.timers.invitationTtl ?? null, draft: loaded.ruleSet.timers.invitationTtl } },
    payoutWindow: { from: from.toISOString(), to: to.toISOString() },
    payouts: sums.toList(),
    changes: diffRuleSets(active, loaded.ruleSet),
    warnings: loaded.warnings,
  };
  await insertPreview(db, {
    id: result.previewId, createdBy: options.actor.principal, version: result.version, activeVersion: result.activeVersion, partial,
    counts: { ...scanned, connectionChanges: connections.length, cartChanges: carts.length, payoutLines: result.payouts.length },
  });
  return result;
}

/** The mail routing that publishing alone changes (new connections and sales use the active version). */
function mailChanges(active: CompiledRuleSet | null, draft: CompiledRuleSet): PreviewResult['mails'] {
  return NOTIFICATION_EVENTS.flatMap((event) => {
    const current = mailWords(active?.notifications[event]);
    const next = mailWords(draft.notifications[event]);
    return current === next ? [] : [{ event, current, draft: next }];
  });
}
