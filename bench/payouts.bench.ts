/**
 * The payout list at scale (issue 8), `npm run bench:payouts`. On the PostgreSQL of DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/postgres) it creates a fresh database, migrates,
 * seeds 1,000,000 payout rows with generate_series (skewed: one hot pair S0→T0 with 200k rows;
 * S0 is also the source of 100 pairs and the seller of 100 more, 4,000 rows each, so S0 is a
 * party of all 1M rows on both sides), runs VACUUM ANALYZE, builds the API in-process on a free
 * port (Temporal client lazy: the payout routes never call it) and measures through real HTTP
 * requests sent one after another:
 *   - page p50/p95 for S0 (all rows / the hot pair), first page and page 1,000, with and without a
 *     paidStatus + time-window filter, and the same page query straight to PostgreSQL (ratio);
 *   - the settlement summary of the hot pair;
 *   - the CSV export at 100k and 1M rows: rows/s and the peak RSS of a server process of its own
 *     (a child process per size, RSS sampled every 10 ms while streaming).
 * Prints a table, writes bench/results/payouts-<date>.json, exits 1 when a target is missed
 * (page p95 > 5 ms, summary p95 > 150 ms, export peak RSS at 1M > 1.5 × at 100k). Drops its
 * database at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import { buildApp } from '../api/app.ts';
import { clientPrincipal, createApiKey } from '../api/auth.ts';
import { openDatabase, type DatabaseHandle } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { HOT_ROWS, ROWS, S0, seed, T0 } from './payouts.seed.ts';
import { decodePayoutCursor, listPayoutRows, payoutSideQuery, settlementQuery, type PayoutFilters } from '../db/payout.repository.ts';

const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REPEATS = Number(process.env.BENCH_REPEATS ?? 200);
const DEEP_PAGE = 1000;
const LIMIT = 50;

const urlOf = (database: string) => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
};

// ── the export server (child process): buildApp + listen, RSS sampled, peak on request ─────────

async function exportServer(): Promise<void> {
  const handle = openDatabase(process.env.BENCH_DB_URL!);
  const app = await startApi(handle);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  process.on('message', (msg: { kind: string }) => {
    if (msg.kind === 'reset') {
      peak = process.memoryUsage().rss;
      process.send!({ kind: 'reset', rss: peak });
    } else if (msg.kind === 'peak') {
      peak = Math.max(peak, process.memoryUsage().rss);
      process.send!({ kind: 'peak', rss: peak });
    } else if (msg.kind === 'stop') {
      clearInterval(sampler);
      void app.close().then(() => handle.close()).then(() => process.exit(0));
    }
  });
  process.send!({ kind: 'ready', port: (app.server.address() as AddressInfo).port });
}

/** The API as production builds it; Temporal is a lazy connection nothing here ever uses. */
async function startApi(handle: DatabaseHandle) {
  const connection = Connection.lazy({ address: '127.0.0.1:7233' });
  const app = buildApp({
    db: handle.db,
    temporal: { client: new TemporalClient({ connection, namespace: 'default' }), taskQueue: 'bench', namespace: 'default' },
    secretKey: randomBytes(32),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

// ── measuring ────────────────────────────────────────────────────────────────────────────────

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const stats = (xs: number[]) => ({ p50: pct(xs, 50), p95: pct(xs, 95), n: xs.length });

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const value = await fn();
  return [performance.now() - t, value];
}

async function repeat(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(20, n); i++) await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await timed(fn))[0]);
  return out;
}

async function getJson(base: string, key: string, path: string): Promise<any> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

const qs = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)])).toString();

interface Scenario {
  name: string;
  query: Record<string, string | undefined>;
}

async function explain(db: DatabaseHandle['db'], compiled: CompiledQuery): Promise<string[]> {
  const res = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain (analyze, buffers) ${compiled.sql}`, [...compiled.parameters]));
  return res.rows.map((r) => r['QUERY PLAN']);
}

function waitFor(child: ChildProcess, kind: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: any) => {
      if (msg?.kind !== kind) return;
      child.off('message', onMessage);
      resolve(msg);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`export server exited (${code})`)));
  });
}

/** One export through a fresh server process: rows, bytes, seconds, peak RSS of that process. */
async function exportRun(dbUrl: string, key: string, query: Record<string, string | undefined>) {
  const child = fork(fileURLToPath(import.meta.url), ['--export-server'], { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_DB_URL: dbUrl } });
  try {
    const { port } = await waitFor(child, 'ready');
    const base = `http://127.0.0.1:${port}`;
    await getJson(base, key, `/v1/payouts?limit=1`); // warm the process up (routes, pool, auth)
    const reset = waitFor(child, 'reset');
    child.send({ kind: 'reset' });
    const { rss: rssBefore } = await reset;
    const started = performance.now();
    const res = await fetch(`${base}/v1/payouts.csv?${qs(query)}`, { headers: { authorization: `Bearer ${key}` } });
    if (res.status !== 200 || !res.body) throw new Error(`export: ${res.status}`);
    let lines = 0;
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    }
    const seconds = (performance.now() - started) / 1000;
    const peak = waitFor(child, 'peak');
    child.send({ kind: 'peak' });
    const { rss: peakRss } = await peak;
    const rows = lines - 1;
    return { rows, bytes, seconds, rowsPerSecond: rows / seconds, rssBeforeMb: rssBefore / 2 ** 20, peakRssMb: peakRss / 2 ** 20 };
  } finally {
    child.send({ kind: 'stop' });
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
  }
}

async function main(): Promise<number> {
  const database = `ccx_bench_payouts_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const dbUrl = urlOf(database);
  let handle: DatabaseHandle | undefined;
  let app: Awaited<ReturnType<typeof startApi>> | undefined;
  try {
    handle = openDatabase(dbUrl);
    const { db } = handle;
    await migrateToLatest(db);
    console.log(`seeding ${ROWS.toLocaleString('en-US')} payout rows into ${database} …`);
    const { seedMs } = await seed(dbUrl);
    console.log(`seeded in ${(seedMs / 1000).toFixed(1)} s`);
    const { apiKey: s0Key } = await createApiKey(db, clientPrincipal(S0));
    const { apiKey: t0Key } = await createApiKey(db, clientPrincipal(T0));

    app = await startApi(handle);
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    const day = 86_400_000;
    const window = { paidStatus: 'OPEN', from: new Date(Date.now() - 330 * day).toISOString(), to: new Date(Date.now() - 5 * day).toISOString() };
    const scenarios: Scenario[] = [
      { name: 'S0 all rows (1M, both sides)', query: {} },
      { name: 'S0 all rows, OPEN + window', query: window },
      { name: 'S0 hot pair (200k)', query: { connectedClientId: T0 } },
      { name: 'S0 hot pair, OPEN + window', query: { connectedClientId: T0, ...window } },
      { name: 'T0 (seller side of hot pair)', query: {} },
    ];
    const pageRows: Record<string, unknown>[] = [];
    const plans: Record<string, string[]> = {};
    let worstPageP95 = 0;
    for (const s of scenarios) {
      const key = s.name.startsWith('T0') ? t0Key : s0Key;
      const caller = s.name.startsWith('T0') ? T0 : S0;
      // Walk to page DEEP_PAGE for its cursor.
      let cursor: string | undefined;
      let page = 1;
      const walkStarted = performance.now();
      while (page < DEEP_PAGE) {
        const body = await getJson(base, key, `/v1/payouts?${qs({ ...s.query, limit: LIMIT, cursor })}`);
        if (!body.nextCursor) break;
        cursor = body.nextCursor;
        page++;
      }
      const walkMs = performance.now() - walkStarted;
      const filters: PayoutFilters = {
        clientId: caller,
        counterpartyId: s.query.connectedClientId,
        paidStatus: s.query.paidStatus as 'OPEN' | undefined,
        from: s.query.from,
        to: s.query.to,
      };
      for (const [depth, c] of [['first', undefined], [`page ${page}`, cursor]] as const) {
        const path = `/v1/payouts?${qs({ ...s.query, limit: LIMIT, cursor: c })}`;
        const api = stats(await repeat(REPEATS, () => getJson(base, key, path)));
        const direct = stats(await repeat(REPEATS, () => listPayoutRows(db, { ...filters, cursor: c, limit: LIMIT })));
        worstPageP95 = Math.max(worstPageP95, api.p95);
        pageRows.push({ scenario: s.name, depth, apiP50: api.p50, apiP95: api.p95, sqlP50: direct.p50, sqlP95: direct.p95, ratioP95: api.p95 / direct.p95, n: api.n });
        if (depth !== 'first' || s.name === scenarios[0]!.name) {
          const after = c === undefined ? undefined : decodePayoutCursor(c);
          for (const side of ['source', 'seller'] as const) {
            plans[`page ${s.name} ${depth} (${side} side)`] = await explain(db, payoutSideQuery(db, side, filters, after).limit(LIMIT + 1).compile());
          }
        }
      }
      pageRows.push({ scenario: s.name, depth: `walk to page ${page}`, apiP50: walkMs / page, apiP95: NaN, sqlP50: NaN, sqlP95: NaN, ratioP95: NaN, n: page });
    }

    const summaryCases = [
      { name: 'S0 × hot pair (200k rows)', key: s0Key, q: { connectedClientId: T0 }, f: { clientId: S0, counterpartyId: T0 } },
      { name: 'T0, all its rows (200k)', key: t0Key, q: {}, f: { clientId: T0 } },
      { name: 'S0, all its rows (1M, info)', key: s0Key, q: {}, f: { clientId: S0 } },
    ];
    const summaryRows: Record<string, unknown>[] = [];
    let pairSummaryP95 = 0;
    for (const sc of summaryCases) {
      const n = sc.name.includes('1M') ? 10 : 30;
      const api = stats(await repeat(n, () => getJson(base, sc.key, `/v1/payouts/summary?${qs(sc.q)}`)));
      if (!sc.name.includes('info')) pairSummaryP95 = Math.max(pairSummaryP95, api.p95);
      summaryRows.push({ case: sc.name, p50: api.p50, p95: api.p95, n: api.n });
      plans[`summary ${sc.name}`] = await explain(db, settlementQuery(db, sc.f).compile());
    }
    await app.close();
    app = undefined;

    // The 100k export: S0's rows since the created_at of its 100,000th newest row.
    const { rows: cut } = await db.executeQuery<{ from: string }>(
      CompiledQuery.raw(
        `select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as from from payout_rows
         where source_client_id = $1 or connected_client_id = $1 order by created_at desc offset 99999 limit 1`,
        [S0],
      ),
    );
    const export100k = await exportRun(dbUrl, s0Key, { from: cut[0]!.from });
    const export1m = await exportRun(dbUrl, s0Key, {});
    const memoryRatio = export1m.peakRssMb / export100k.peakRssMb;

    const [{ version }] = (await db.executeQuery<{ version: string }>(CompiledQuery.raw('select version()'))).rows as [{ version: string }];
    const machine = {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      postgres: version,
      platform: `${os.platform()} ${os.release()}`,
    };

    const f = (n: unknown, d = 2) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '–');
    console.log(`\nmachine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GB, node ${machine.node}, ${machine.postgres.split(' on ')[0]}`);
    console.log(`seed: ${ROWS.toLocaleString('en-US')} rows in ${(seedMs / 1000).toFixed(1)} s; pages of ${LIMIT}, ${REPEATS} sequential requests each (ms)`);
    console.log(`${'page'.padEnd(34)}${'depth'.padEnd(22)}${'API p50'.padStart(9)}${'API p95'.padStart(9)}${'SQL p50'.padStart(9)}${'SQL p95'.padStart(9)}${'API/SQL'.padStart(9)}`);
    for (const r of pageRows) {
      console.log(
        `${String(r.scenario).padEnd(34)}${String(r.depth).padEnd(22)}${f(r.apiP50).padStart(9)}${f(r.apiP95).padStart(9)}${f(r.sqlP50).padStart(9)}${f(r.sqlP95).padStart(9)}${f(r.ratioP95).padStart(9)}`,
      );
    }
    console.log(`\n${'summary'.padEnd(34)}${'p50'.padStart(9)}${'p95'.padStart(9)}`);
    for (const r of summaryRows) console.log(`${String(r.case).padEnd(34)}${f(r.p50).padStart(9)}${f(r.p95).padStart(9)}`);
    console.log(`\n${'CSV export'.padEnd(14)}${'rows'.padStart(10)}${'MB'.padStart(8)}${'s'.padStart(8)}${'rows/s'.padStart(10)}${'RSS before'.padStart(12)}${'peak RSS'.padStart(10)}`);
    for (const [name, e] of [['100k', export100k], ['1M', export1m]] as const) {
      console.log(
        `${name.padEnd(14)}${String(e.rows).padStart(10)}${f(e.bytes / 2 ** 20, 1).padStart(8)}${f(e.seconds).padStart(8)}${Math.round(e.rowsPerSecond).toLocaleString('en-US').padStart(10)}${f(e.rssBeforeMb, 1).padStart(12)}${f(e.peakRssMb, 1).padStart(10)}`,
      );
    }
    const checks = {
      pageP95: { value: worstPageP95, limit: 5, ok: worstPageP95 <= 5 },
      summaryP95: { value: pairSummaryP95, limit: 150, ok: pairSummaryP95 <= 150 },
      exportMemoryRatio: { value: memoryRatio, limit: 1.5, ok: memoryRatio <= 1.5 },
    };
    console.log(`\nworst page p95 ${f(worstPageP95)} ms (target ≤ 5)                 ${checks.pageP95.ok ? 'ok' : 'MISSED'}`);
    console.log(`summary p95 (200k-row pair) ${f(pairSummaryP95)} ms (target ≤ 150)    ${checks.summaryP95.ok ? 'ok' : 'MISSED'}`);
    console.log(`export peak RSS 1M / 100k = ${f(memoryRatio)}× (target ≤ 1.5×)        ${checks.exportMemoryRatio.ok ? 'ok' : 'MISSED'}`);

    const date = new Date().toISOString().slice(0, 10);
    const out = fileURLToPath(new URL(`./results/payouts-${date}.json`, import.meta.url));
    mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify({ date: new Date().toISOString(), machine, rows: ROWS, hotPairRows: HOT_ROWS, seedMs, pageLimit: LIMIT, repeats: REPEATS, pages: pageRows, summary: summaryRows, export: { '100k': export100k, '1M': export1m, memoryRatio }, checks, plans }, null, 2)}\n`,
    );
    console.log(`wrote ${out}`);
    return Object.values(checks).every((c) => c.ok) ? 0 : 1;
  } finally {
    if (app) await app.close();
    if (handle) await handle.close();
    // BENCH_KEEP_DATABASE=1 keeps it for looking at plans by hand (drop it yourself afterwards).
    if (process.env.BENCH_KEEP_DATABASE === '1') console.log(`kept database ${database}`);
    else await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
}

if (process.argv.includes('--export-server')) {
  await exportServer();
} else {
  process.exitCode = await main();
}
