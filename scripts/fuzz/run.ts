/**
 * `npm run test:fuzz`: the API under an OpenAPI-driven fuzzer (schemathesis), bounded in time.
 *
 * Starts the whole stack (`ccx start`) on a fresh database of the machine's PostgreSQL
 * (FUZZ_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres; dropped afterwards),
 * seeds a small world over HTTP (test/support/world.ts), checks that /openapi.json validates as
 * OpenAPI 3.1, then runs schemathesis with every check against it — for the operator, the viewer
 * and three clients of the world, in negative and positive mode — through a proxy that counts the
 * requests and fingerprints the database around each one (scripts/fuzz/proxy.ts). Passes when
 * schemathesis finds nothing (no server error, no schema, status, content-type or header
 * violation, no accepted invalid or refused valid request), no refused request changed state,
 * and the stack is healthy afterwards. Reports and the stack's log go to .data/fuzz/.
 *
 * FUZZ_SECONDS is the time of a full-length run (default 30: about five minutes in all).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../../db/connect.ts';
import { buildWorld, type Send } from '../../test/support/world.ts';
import { issuedCursors, schemathesisConfig } from './config.ts';
import { startProxy } from './proxy.ts';
import { ensureTools, runSchemathesis, validateOpenApi31 } from './tools.ts';

const log = (line: string) => console.log(`[fuzz] ${line}`);
const started = Date.now();
const OUT = path.resolve('.data/fuzz');
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 30);

function freePort(port = 0): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.on('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

/** A free port for the Temporal dev server whose UI port (port + 1000) is free too. */
async function freeDevServerPort(): Promise<number> {
  for (;;) {
    const port = (await freePort())!;
    if (port + 1000 <= 65535 && (await freePort(port + 1000)) !== undefined) return port;
  }
}

async function waitForHealth(base: string, stackLog: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${base}/health`).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`the stack did not become healthy (last status ${status}); see ${stackLog}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<number> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  ensureTools(log);

  const adminUrl = process.env.FUZZ_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `ccx_fuzz_${Date.now()}_${process.pid}`;
  const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString();
  const admin = openDatabase(adminUrl);
  await sql`create database ${sql.id(dbName)}`.execute(admin.db);
  const cleanups: Array<() => Promise<void>> = [
    async () => {
      await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(admin.db);
      await admin.close();
    },
  ];
  let cleaned: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaned ??= (async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => log(`cleanup: ${String(err)}`));
      log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
    })());
  // Interrupted (Ctrl-C, a CI timeout): still stop the stack and drop the database.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().then(() => process.exit(130)));
  }
  try {
    return await fuzz(databaseUrl, cleanups);
  } finally {
    await cleanUp();
  }
}

async function fuzz(databaseUrl: string, cleanups: Array<() => Promise<void>>): Promise<number> {
  // The stack, as `ccx start` runs it, on its own ports and data directory.
  const [port, temporalPort] = [(await freePort())!, await freeDevServerPort()];
  const operatorKey = `ccx-fuzz-${randomBytes(24).toString('hex')}`;
  const stackLog = path.join(OUT, 'stack.log');
  const logFd = openSync(stackLog, 'w');
  const dataDir = path.join(OUT, 'data');
  const stack = spawn(process.execPath, ['--import', 'tsx', 'cli/ccx.ts', 'start'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, CCX_DATA_DIR: dataDir, CCX_OPERATOR_KEY: operatorKey, CCX_SECRET_KEY: randomBytes(32).toString('hex'), CCX_TEMPORAL_DEV_PORT: String(temporalPort) },
    stdio: ['ignore', logFd, logFd],
  });
  let exited: number | null = null;
  stack.on('exit', (code) => (exited = code ?? -1));
  cleanups.push(async () => {
    if (exited !== null) return;
    stack.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const killer = setTimeout(() => stack.kill('SIGKILL'), 20_000);
      stack.on('exit', () => (clearTimeout(killer), resolve()));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  log(`starting the stack on ${base} (database ${databaseUrl.replace(/\/\/[^@]*@/, '//')})`);
  await waitForHealth(base, stackLog);

  // The world the clients fuzz in, seeded directly (not counted as fuzz requests).
  const send: Send = async (method, url, key, body) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const world = await buildWorld(send, operatorKey);
  const cursors = await issuedCursors(send, world, operatorKey);
  log(`seeded: company ${world.companyId}, clients source ${world.source.id}, seller ${world.seller.id}, stranger ${world.stranger.id}`);

  const docFile = path.join(OUT, 'openapi.json');
  writeFileSync(docFile, await (await fetch(`${base}/openapi.json`)).text());
  log(`openapi.json: ${validateOpenApi31(docFile)}`);

  const database = openDatabase(databaseUrl);
  cleanups.push(() => database.close());
  const keys = new Map<string, string>([
    [operatorKey, 'operator'],
    [world.viewerKey, 'viewer'],
    [world.source.apiKey, 'source client'],
    [world.seller.apiKey, 'seller client'],
    [world.stranger.apiKey, 'stranger client'],
  ]);
  const proxy = await startProxy(new URL(base), database.db, (authorization) => {
    const key = /^Bearer\s+(\S+)/i.exec(authorization ?? '')?.[1];
    return key === undefined ? 'no key' : (keys.get(key) ?? 'other key');
  });
  cleanups.push(() => proxy.close());

  const configFiles = {
    negative: path.join(OUT, 'schemathesis-negative.toml'),
    positive: path.join(OUT, 'schemathesis-positive.toml'),
  };
  writeFileSync(configFiles.negative, schemathesisConfig(world, new Map()));
  writeFileSync(configFiles.positive, schemathesisConfig(world, cursors));
  const operatorOps = ['--include-tag', 'operator'];
  const clientOps = ['--exclude-tag', 'operator'];
  const runs = [
    // Refusals first: the negative runs must leave every table as it was (the proxy checks each request).
    { who: 'operator', key: operatorKey, include: operatorOps, share: 1 },
    // The viewer only reads: its writes are refused (the authorization test covers them).
    { who: 'viewer', key: world.viewerKey, include: [...operatorOps, ...['POST', 'PUT', 'PATCH', 'DELETE'].flatMap((m) => ['--exclude-method', m])], share: 0.5 },
    { who: 'source client', key: world.source.apiKey, include: clientOps, share: 1 },
    { who: 'seller client', key: world.seller.apiKey, include: clientOps, share: 1 },
    { who: 'stranger client', key: world.stranger.apiKey, include: clientOps, share: 0.5 },
  ];
  const failed: string[] = [];
  for (const mode of ['negative', 'positive'] as const) {
    for (const run of runs) {
      const label = `${run.who}, ${mode}`;
      const output: string[] = [];
      const code = await runSchemathesis(
        {
          label,
          configFile: configFiles[mode],
          schemaUrl: `${proxy.url.origin}/openapi.json`,
          key: run.key,
          mode,
          seconds: Math.max(5, Math.round(SECONDS * run.share)),
          // NUL is refused (400) as the document's description says, which its schemas cannot: no
          // generated string holds one (a negative run mixes in valid parts too). The stateful
          // phase sends valid requests only, so it runs in positive mode.
          include: [...run.include, '--generation-allow-x00', 'false', ...(mode === 'positive' ? [] : ['--phases', 'examples,coverage,fuzzing'])],
          reportFile: path.join(OUT, `junit-${run.who.replace(/\W+/g, '-')}-${mode}.xml`),
          seed: 4711,
        },
        (chunk) => output.push(chunk),
      );
      writeFileSync(path.join(OUT, `schemathesis-${run.who.replace(/\W+/g, '-')}-${mode}.log`), output.join(''));
      const lines = output.join('').split('\n');
      const summary = lines.slice(lines.findIndex((l) => l.startsWith('Test cases:')) + 1).find((l) => l.trim() !== '')?.trim() ?? '';
      log(`${label}: exit ${code} — ${summary.trim()}`);
      if (code !== 0) failed.push(label);
    }
  }

  // Afterwards: the stack answers and is healthy; nothing refused changed anything.
  const health = await fetch(`${base}/health`);
  const healthy = health.status === 200 && exited === null;
  log(`health afterwards: ${health.status} ${await health.text()}${exited === null ? '' : ` (stack exited ${exited})`}`);
  let total = 0;
  for (const [who, byStatus] of proxy.stats.requests) {
    const count = [...byStatus.values()].reduce((a, b) => a + b, 0);
    total += count;
    const statuses = [...byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    log(`requests with ${who}: ${count} (${statuses})`);
  }
  const serverErrors = [...proxy.stats.requests.values()].flatMap((m) => [...m.entries()]).filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0);
  log(`requests in all: ${total}; server errors: ${serverErrors}; refused requests that changed state: ${proxy.stats.refusedChanges.length}`);
  for (const c of proxy.stats.refusedChanges.slice(0, 20)) log(`  ${c.key}: ${c.method} ${c.url} → ${c.status} changed ${c.tables.join(', ')}`);
  if (failed.length > 0) log(`schemathesis found failures in: ${failed.join('; ')} (see ${OUT})`);
  const requests = Object.fromEntries([...proxy.stats.requests].map(([who, byStatus]) => [who, Object.fromEntries(byStatus)]));
  writeFileSync(path.join(OUT, 'summary.json'), JSON.stringify({ total, serverErrors, requests, refusedChanges: proxy.stats.refusedChanges, failed, healthy }, null, 2));
  return failed.length === 0 && healthy && serverErrors === 0 && proxy.stats.refusedChanges.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
