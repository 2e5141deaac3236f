/** The environment a run measured: machine, versions, commit and both workers' settings. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { locateTemporalCli } from '../../runtime/temporal-cli.ts';
import { PLAIN_WORKER_SETTINGS } from '../plain/settings.ts';
import { ROOT } from './infra.ts';

const run = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};

/** The options runtime/worker.ts passes to Worker.create besides its dependencies, as written there. */
export function productWorkerSettings(): Record<string, string> {
  const source = readFileSync(path.join(ROOT, 'runtime/worker.ts'), 'utf8');
  const block = /Worker\.create\(\{([\s\S]*?)\n\s*\}\);/.exec(source)?.[1] ?? '';
  const settings: Record<string, string> = {};
  for (const line of block.split('\n')) {
    const m = /^\s*(\w+):\s*(.+?),?\s*$/.exec(line);
    if (m && !/deps\.|createActivities|activityInterceptors|bundleWorkflows/.test(m[2]!)) settings[m[1]!] = m[2]!;
  }
  return settings;
}

export async function environment(dbUrl: string) {
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const postgres = (await db.query('select version()')).rows[0].version.split(' on ')[0];
  await db.end();
  const cli = locateTemporalCli();
  return {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    commit: run('git', ['rev-parse', 'HEAD']),
    dirty: run('git', ['status', '--porcelain']) !== '',
    temporalDevServer: cli ? run(cli, ['--version']) : 'unknown',
    postgres,
    productWorker: { ...productWorkerSettings(), note: 'options runtime/worker.ts passes to Worker.create; every other setting is the SDK default' },
    plainWorker: { ...PLAIN_WORKER_SETTINGS, note: 'bench/plain/settings.ts; every other setting is the SDK default' },
  };
}
