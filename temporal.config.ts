/**
 * Temporal settings shared by the API, the worker, the CLI and (for the sandbox-safe parts) the
 * workflows. Nothing here touches `process` at module load: workflow code imports this file and
 * the sandbox has no `process`; `@temporalio/envconfig` is excluded from the workflow bundle.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ActivityOptions } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';

export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TASK_QUEUE = 'cross-client';

export const searchAttributes = {
  ConnectionStatus: defineSearchAttributeKey('ConnectionStatus', SearchAttributeType.KEYWORD),
  SourceClientId: defineSearchAttributeKey('SourceClientId', SearchAttributeType.KEYWORD),
  TargetClientId: defineSearchAttributeKey('TargetClientId', SearchAttributeType.KEYWORD),
  ClientId: defineSearchAttributeKey('ClientId', SearchAttributeType.KEYWORD),
  CartStatus: defineSearchAttributeKey('CartStatus', SearchAttributeType.KEYWORD),
  OfferAccess: defineSearchAttributeKey('OfferAccess', SearchAttributeType.BOOL),
  RuleSetVersion: defineSearchAttributeKey('RuleSetVersion', SearchAttributeType.KEYWORD),
  OrderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  PurchaseStatus: defineSearchAttributeKey('PurchaseStatus', SearchAttributeType.KEYWORD),
} as const;

/** `--search-attribute Name=Type` values for the dev server and `ccx temporal setup`. */
export const searchAttributeDefinitions: Record<string, 'Keyword' | 'Bool'> = Object.fromEntries(
  Object.values(searchAttributes).map((k) => [k.name, k.type === SearchAttributeType.BOOL ? 'Bool' : 'Keyword']),
);

/**
 * Activity presets. Database writes are short and idempotent: retry quickly and forever (an
 * acknowledged transition must reach the read model), except for errors retrying cannot fix
 * (activities/database-errors.ts). 5 s to close: an attempt lost with a killed worker is retried
 * within seconds, not tens of them. `mail` is the preset of runs from before the mail outbox,
 * whose mail activity now only enqueues.
 */
export const activityPresets = {
  database: {
    startToCloseTimeout: '5 seconds',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
  },
  mail: {
    startToCloseTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  },
} satisfies Record<string, ActivityOptions>;

export interface TemporalSettings {
  /** host:port of the frontend; undefined means "run the embedded dev server". */
  address: string | undefined;
  namespace: string;
  taskQueue: string;
  devServerPort: number;
  /** Connection options from Temporal's env-config (profiles in temporal.toml, TEMPORAL_* env). */
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const profile = loadClientConnectConfig({
    profile: env.TEMPORAL_PROFILE,
    overrideEnvVars: env as Record<string, string>,
  });
  const devServerPort = Number(env.CCX_TEMPORAL_DEV_PORT ?? 7233);
  const address = env.TEMPORAL_ADDRESS || undefined;
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE || profile.namespace || DEFAULT_NAMESPACE,
    taskQueue: env.CCX_TASK_QUEUE || DEFAULT_TASK_QUEUE,
    devServerPort,
    connectionOptions: { ...profile.connectionOptions, address: address ?? `127.0.0.1:${devServerPort}` },
  };
}
