/**
 * A private Temporal dev server (the CLI's `server start-dev`) on its own port with a db file in
 * the run's temp dir, so it can be stopped and started again with every workflow kept: the
 * outage of scenario (b). Search attributes are registered on every start, as runtime/dev-server.ts does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeDefinitions } from '../../temporal.config.ts';
import { sleep } from './util.ts';

export interface PrivateTemporal {
  address: string;
  start(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s); resolves once the process has exited. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
  pid(): number | undefined;
}

export function privateTemporal(options: { cli: string; root: string; port: number; namespace: string }): PrivateTemporal {
  const address = `127.0.0.1:${options.port}`;
  const logFile = path.join(options.root, 'logs', 'temporal.log');
  let child: ChildProcess | undefined;
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(options.port),
    '--headless',
    '--db-filename', path.join(options.root, 'temporal.db'),
    '--log-level', 'warn',
    ...Object.entries(searchAttributeDefinitions).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];

  async function stop(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  return {
    address,
    pid: () => child?.pid,
    async start() {
      const out = createWriteStream(logFile, { flags: 'a' });
      out.write(`--- start ${new Date().toISOString()}\n`);
      const c = spawn(options.cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      c.stdout!.pipe(out);
      c.stderr!.pipe(out);
      child = c;
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`temporal dev server exited during start (${c.exitCode ?? c.signalCode}); see ${logFile}`);
        if (await ready(address, options.namespace)) return;
        if (Date.now() > deadline) throw new Error(`temporal dev server on ${address} not ready after 60 s`);
        await sleep(250);
      }
    },
    stop,
    async destroy() {
      await stop().catch(() => {});
    },
  };
}

/** Answers and lists every search attribute the product needs. */
async function ready(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1000 });
    await connection.workflowService.getSystemInfo({});
    const res = await connection.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(res.customAttributes ?? {}));
    return Object.keys(searchAttributeDefinitions).every((name) => have.has(name));
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}
