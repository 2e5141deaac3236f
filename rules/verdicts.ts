/**
 * What evaluating a rule set answers: a guard's verdict and a payout share. Their own module so
 * the evaluator and the explainer can both use them without importing each other.
 */
import type { RuleCode } from './model.ts';

export type GuardVerdict =
  | { allowed: true }
  /** `failure: 'error'`: the rule could not be evaluated (a fact missing or malformed) and refuses. */
  | { allowed: false; rule: string; code: RuleCode; message: string; failure: 'rejected' | 'error' };

export type PayoutShare =
  /** `ruleId: null`: no payout rule applied; nothing is shared. */
  | { ok: true; ruleId: string | null; shareBasisPoints: number; shareMinor: number }
  | { ok: false; ruleId: string; error: string };
