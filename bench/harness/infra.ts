/**
 * What both benchmarks stand on: a fresh Temporal dev server (started like runtime/dev-server.ts,
 * the search attributes of temporal.config.ts, free ports, its own temp data dir), a fresh PostgreSQL database
 * on the local server (dropped at the end), a counting SMTP sink, and the two stacks as child
 * processes of their own: the product exactly as `npm start` runs it (`ccx start`, configured by
 * env) and the plain baseline (bench/plain/server.ts). Nothing here shares an event loop with them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { Connection } from '@temporalio/client';
import type { DevServer } from '../../runtime/dev-server.ts';
import { waitForSearchAttributes } from '../../runtime/search-attributes.ts';
import { locateTemporalCli } from '../../runtime/temporal-cli.ts';
import { searchAttributeDefinitions } from '../../temporal.config.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ADMIN_URL = process.env.BENCH_ADMIN_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The dev server as runtime/dev-server.ts starts it (same CLI, flags and search attributes), but
 * its log goes to a file in the bench's temp dir: under overload it logs every cancelled call,
 * which would bury the progress lines.
 */
export async function startBenchTemporal(dir: string): Promise<DevServer & { pid?: number }> {
  const cli = locateTemporalCli();
  if (!cli) throw new Error('Temporal CLI not found; set TEMPORAL_CLI');
  let port = await freePort();
  while (port + 1000 > 65535) port = await freePort(); // the UI listens on port + 1000
  const log = openSync(path.join(dir, 'temporal.log'), 'a');
  const child = spawn(cli, [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(port + 1000),
    '--db-filename', path.join(dir, 'temporal.db'), '--namespace', 'default', '--log-level', 'error',
    ...Object.entries(searchAttributeDefinitions).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ], { stdio: ['ignore', log, log] });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await done;
  };
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited (${child.exitCode}); see ${dir}/temporal.log`);
    const connection = await Connection.connect({ address, connectTimeout: 1000 }).catch(() => undefined);
    if (connection) {
      try {
        await waitForSearchAttributes(connection, 'default');
        return { address, uiUrl: `http://127.0.0.1:${port + 1000}`, stop, pid: child.pid };
      } catch (err) {
        await stop();
        throw err;
      } finally {
        await connection.close();
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error('temporal dev server did not answer in 60 s');
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface BenchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(kind: string): Promise<BenchDatabase> {
  const name = `${process.env.BENCH_DB_PREFIX ?? 'ccx_bench'}_${kind}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** A real SMTP server that accepts everything and counts mails by the domain of their Message-ID. */
export async function startCountingSink() {
  const counts = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (head.length < 4096) head += chunk.toString('utf8');
      });
      stream.on('end', () => {
        const domain = /^message-id:\s*<[^@>]*@([^>]+)>/im.exec(head)?.[1] ?? 'unknown';
        counts.set(domain, (counts.get(domain) ?? 0) + 1);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  server.on('error', () => {});
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    count: (domain: string) => counts.get(domain) ?? 0,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Service {
  name: string;
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns a stack process, waits until GET /health answers 200; its output goes to a log file. */
export async function spawnService(name: string, args: string[], env: Record<string, string>, port: number, logDir: string): Promise<Service> {
  const log = createWriteStream(path.join(logDir, `${name}.log`));
  // BENCH_CPU_PROF=1: a V8 CPU profile of each stack process, written into the logs dir when it stops.
  // One file per thread (main, tsx's loader, the worker's workflow threads): CPU.<date>.<pid>.<tid>.cpuprofile.
  const profile = process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${path.join(logDir, `${name}-profiles`)}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const base = `http://127.0.0.1:${port}`;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await done;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`${name} exited (${exited}) while starting; see ${path.join(logDir, `${name}.log`)}`);
    const res = await fetch(`${base}/health`).catch(() => undefined);
    if (res?.status === 200) return { name, base, child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not become healthy in 3 min; see ${path.join(logDir, `${name}.log`)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface BenchInfra {
  dir: string;
  temporal: DevServer & { pid?: number };
  db: BenchDatabase;
  sink: Awaited<ReturnType<typeof startCountingSink>>;
  operatorKey: string;
  product: Service;
  plain: Service;
  limit?: Service;
  stop(): Promise<void>;
}

export const PRODUCT_TASK_QUEUE = 'cross-client';
export const PLAIN_TASK_QUEUE = 'plain';
export const LIMIT_TASK_QUEUE = 'plain-limit';

/** Everything up, in order; whatever started is stopped again when a later part fails. */
/** `env`: what a benchmark sets on top for the product's or the baseline's process (e.g. callbacks to loopback). */
export async function startInfra(
  kind: string,
  options: { limit: boolean; beforeStacks?: (dbUrl: string) => Promise<void>; env?: { product?: Record<string, string>; plain?: Record<string, string> } },
): Promise<BenchInfra> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ccx-bench-${kind}-`));
  // BENCH_KEEP_LOGS=1 (implied by BENCH_CPU_PROF=1) keeps the stacks' and the dev server's logs for a look afterwards.
  const stops: Array<() => Promise<void>> = [async () => (process.env.BENCH_KEEP_LOGS === '1' || process.env.BENCH_CPU_PROF === '1' ? console.log(`logs kept in ${dir}`) : rmSync(dir, { recursive: true, force: true }))];
  const stop = async () => {
    while (stops.length > 0) await stops.pop()!().catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
  };
  // Interrupted: stacks, dev server and database go too, not left behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().finally(() => process.exit(130)));
  try {
    console.log(`[setup] Temporal dev server, database, SMTP sink (logs in ${dir})`);
    const temporal = await startBenchTemporal(dir);
    stops.push(temporal.stop);
    const db = await createBenchDatabase(kind);
    stops.push(db.drop);
    const sink = await startCountingSink();
    stops.push(sink.stop);
    await options.beforeStacks?.(db.url);
    const operatorKey = `ccx_op_${randomBytes(24).toString('hex')}`;
    const common = { TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: db.url, SMTP_URL: sink.url };
    console.log('[setup] starting the product (ccx start) and the plain baseline, each in its own process …');
    const settled = await Promise.allSettled([
      spawnService('product', ['cli/ccx.ts', 'start'], {
        ...common,
        CCX_SECRET_KEY: randomBytes(32).toString('hex'),
        CCX_OPERATOR_KEY: operatorKey,
        CCX_MAIL_FROM: 'Cross-Client Bench <bench@bench-sink.net>',
        CCX_DATA_DIR: path.join(dir, 'product-data'),
        CCX_TASK_QUEUE: PRODUCT_TASK_QUEUE,
        HOST: '127.0.0.1',
        ...options.env?.product,
      }, await freePort(), dir),
      spawnService('plain', ['bench/plain/server.ts'], { ...common, PLAIN_TASK_QUEUE, PLAIN_MODE: 'effects', ...options.env?.plain }, await freePort(), dir),
      options.limit ? spawnService('limit', ['bench/plain/server.ts'], { ...common, PLAIN_TASK_QUEUE: LIMIT_TASK_QUEUE, PLAIN_MODE: 'limit' }, await freePort(), dir) : undefined,
    ]);
    for (const s of settled) if (s.status === 'fulfilled' && s.value) stops.push(s.value.stop);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [product, plain, limit] = settled.map((s) => (s as PromiseFulfilledResult<Service | undefined>).value) as [Service, Service, Service | undefined];
    return { dir, temporal, db, sink, operatorKey, product, plain, limit, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
