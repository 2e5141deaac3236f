import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as foundation from './migrations/2026_11_27_001_foundation.ts';
import * as ruleSets from './migrations/2026_11_27_002_rule_sets.ts';
import * as moduleRevision from './migrations/2026_11_27_003_module_revision.ts';
import * as offersCarts from './migrations/2026_11_27_004_offers_carts.ts';
import * as ordersPayouts from './migrations/2026_11_27_005_orders_payouts.ts';
import * as orderMovements from './migrations/2026_11_27_006_order_movements.ts';
import * as payoutIndexes from './migrations/2026_11_27_007_payout_indexes.ts';
import * as outboxes from './migrations/2026_11_27_008_outboxes.ts';
import * as auditLog from './migrations/2026_11_27_009_audit_log.ts';
import * as changeFeed from './migrations/2026_11_28_010_change_feed.ts';
import * as callbacks from './migrations/2026_11_28_011_callbacks.ts';
import * as ruleSetPreviews from './migrations/2026_11_28_012_rule_set_previews.ts';
import * as callbackFairness from './migrations/2026_11_28_013_callback_fairness.ts';

/** Migrations listed statically: works the same under tsx, vitest and a bundler. */
const migrations: Record<string, Migration> = {
  '2026_11_27_001_foundation': foundation,
  '2026_11_27_002_rule_sets': ruleSets,
  '2026_11_27_003_module_revision': moduleRevision,
  '2026_11_27_004_offers_carts': offersCarts,
  '2026_11_27_005_orders_payouts': ordersPayouts,
  '2026_11_27_006_order_movements': orderMovements,
  '2026_11_27_007_payout_indexes': payoutIndexes,
  '2026_11_27_008_outboxes': outboxes,
  '2026_11_27_009_audit_log': auditLog,
  '2026_11_28_010_change_feed': changeFeed,
  '2026_11_28_011_callbacks': callbacks,
  '2026_11_28_012_rule_set_previews': ruleSetPreviews,
  '2026_11_28_013_callback_fairness': callbackFairness,
};

/** In the order they run (kysely sorts by name). */
export const migrationNames: readonly string[] = Object.keys(migrations).sort();

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }
}
