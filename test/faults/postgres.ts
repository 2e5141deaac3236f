/**
 * A private PostgreSQL cluster for the fault suite: initdb in a directory of the run's temp dir
 * (owned by `postgres`, as initdb refuses root), trust auth, on its own port, listening on
 * 127.0.0.1 only, its socket in the temp dir. `stop()` is `pg_ctl stop -m fast` and `start()`
 * starts the same data directory on the same port again: the outage of scenario (c).
 */
import { execFile } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const BIN = process.env.FAULTS_PG_BIN ?? '/usr/local/bin';

export interface PrivatePostgres {
  url: string;
  port: number;
  dataDir: string;
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: every connection is cut, the server is gone until `start()`. */
  stop(): Promise<void>;
  /** Immediate stop, for the final cleanup (errors ignored). */
  destroy(): Promise<void>;
}

async function asPostgres(args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout, stderr } = await run('runuser', ['-u', 'postgres', '--', ...args], { timeout: timeoutMs });
  return `${stdout}${stderr}`;
}

export async function startPrivatePostgres(options: { root: string; port: number }): Promise<PrivatePostgres> {
  const base = path.join(options.root, 'pg');
  const dataDir = path.join(base, 'data');
  const socketDir = path.join(base, 'sock');
  mkdirSync(socketDir, { recursive: true });
  const { uid, gid } = await postgresIds();
  for (const dir of [base, socketDir]) chownSync(dir, uid, gid);
  await asPostgres([path.join(BIN, 'initdb'), '-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  const serverOptions = `-p ${options.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${socketDir} -c max_connections=200`;
  const pgCtl = (...args: string[]) => asPostgres([path.join(BIN, 'pg_ctl'), '-D', dataDir, ...args]);
  const start = async () => {
    await pgCtl('-l', path.join(base, 'server.log'), '-w', '-t', '60', '-o', serverOptions, 'start');
  };
  await start();
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${options.port}/postgres` });
  await admin.connect();
  await admin.query('create database ccx');
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:${options.port}/ccx`,
    port: options.port,
    dataDir,
    start,
    async stop() {
      await pgCtl('stop', '-m', 'fast', '-w', '-t', '60');
    },
    async destroy() {
      await pgCtl('stop', '-m', 'immediate', '-w', '-t', '30').catch(() => '');
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
