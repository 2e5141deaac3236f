/**
 * Fault-injection suite: `npm run test:faults` (= `tsx test/faults/run.ts`).
 *
 * It starts a private stack, the way the product scales out, so that stopping one part harms
 * nothing else:
 *   - PostgreSQL: initdb in a temp dir, as `postgres` via runuser, on its own port   (postgres.ts)
 *   - Temporal: the CLI's dev server with a db file, on its own port                 (temporal.ts)
 *   - SMTP: an in-process server recording every message, with fault modes           (smtp.ts)
 *   - two `ccx worker` and two `ccx api` processes sharing DATABASE_URL,
 *     TEMPORAL_ADDRESS, SMTP_URL, CCX_SECRET_KEY and CCX_OPERATOR_KEY               (processes.ts)
 * then builds a world over HTTP and runs a steady load of connection commands and purchases
 * (load.ts; HTTP client with the Idempotency-Key / retry-503 contract in http.ts) through these
 * scenarios, one after the other on the same stack, each with its own load window:
 *   base  no fault: the control (if this fails, suspect the harness first)
 *   a     SIGKILL a worker every few seconds (alternating, the other one stays up) and restart it;
 *         the next kill comes 1 s after the restarted worker polls (a restart takes ~7–10 s here:
 *         each worker bundles its workflow code at boot), for 30 s
 *   b     stop the Temporal dev server, start it again on the same port and db file
 *   c     stop Postgres (`pg_ctl stop -m fast`) for 20 s, start it again
 *   d     SMTP answers 451 to MAIL FROM for 20 s, then refuses our sender with 550 for 20 s
 * After each window the load stops, every part is up again, and a bounded settle period waits
 * for the work in flight (mails, purchases, fan-outs); then verify.ts checks commands, payout
 * rows, mails, workflows and HTTP answers (see its header for the exact rules). A summary table
 * is printed and the figures are written to test/faults/results/last-run.json (process logs to
 * test/faults/results/logs/). Exit code: 0 all checks passed, 1 a check failed, 2 the harness
 * itself failed. Every process started is stopped and the temp dir removed, also on failure or
 * Ctrl-C.
 *
 * Knobs (environment): FAULTS_SCENARIOS (default "base,a,b,c,d"), FAULTS_PAIRS (6 lifecycle
 * pairs), FAULTS_SHOPS (2 purchase loops), FAULTS_THINK_MS (250 ms between a driver's commands),
 * FAULTS_KEEP_TMP=1 (keep the temp dir), FAULTS_PG_BIN (/usr/local/bin), TEMPORAL_CLI.
 * Needs root (runuser), PostgreSQL 15 binaries and the Temporal CLI (.tools/temporal).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { locateTemporalCli } from '../../runtime/temporal-cli.ts';
import { ApiClient } from './http.ts';
import { buildWorld, drivePair, driveShop, type LoadLog, type World } from './load.ts';
import { startPrivatePostgres, type PrivatePostgres } from './postgres.ts';
import { CcxProcess } from './processes.ts';
import { startFaultSmtp, type FaultSmtp } from './smtp.ts';
import { privateTemporal, type PrivateTemporal } from './temporal.ts';
import { elapsed, errorText, freePort, log, sleep } from './util.ts';
import { checkHttp, checkMails, Verifier, type Anomaly, type FaultWindow } from './verify.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const resultsDir = path.join(repoRoot, 'test', 'faults', 'results');
const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const settings = {
  scenarios: (process.env.FAULTS_SCENARIOS ?? 'base,a,b,c,d').split(',').map((s) => s.trim()).filter(Boolean),
  pairs: num('FAULTS_PAIRS', 6),
  shops: num('FAULTS_SHOPS', 2),
  thinkMs: num('FAULTS_THINK_MS', 250),
  /**
   * After a part is back, the time the API may take to notice before a 503 counts as wrong. For
   * Temporal it is longer: while the server is unreachable the SDK's pollers back off up to 10 s (±20 %)
   * between polls (Core's poll retry policy, not configurable from TypeScript), so an activity
   * poller may first poll again up to 10 s after the server is back; a purchase, whose
   * authorization is a regular activity, waits for it (a 503 5.4 s after a restart was seen in CI).
   */
  graceMs: (part: string) => (part === 'temporal' ? 12_000 : 5_000),
  /** Load goes on this long after the fault is repaired: recovery is observed under load too. */
  tailMs: 10_000,
  keepTmp: process.env.FAULTS_KEEP_TMP === '1',
};

interface Stack {
  root: string;
  postgres?: PrivatePostgres;
  temporal?: PrivateTemporal;
  smtp?: FaultSmtp;
  workers: CcxProcess[];
  apis: CcxProcess[];
  pool?: pg.Pool;
  connection?: Connection;
}

interface ScenarioDef {
  key: string;
  title: string;
  /** Injects the fault while the load runs; resolves once every part is repaired. */
  inject(stack: Stack, windows: FaultWindow[]): Promise<void>;
  settleMaxMs: number;
}

/** Seconds since the suite started, as in the log lines. */
const rel = (at: number) => Number(elapsed(at));

const faultWindow = (windows: FaultWindow[], scenario: string, part: string, apiDependency: boolean): FaultWindow => {
  const w: FaultWindow = { scenario, part, apiDependency, downAt: Date.now() };
  windows.push(w);
  return w;
};

const SCENARIOS: ScenarioDef[] = [
  {
    key: 'base',
    title: 'no fault (control)',
    settleMaxMs: 60_000,
    inject: () => sleep(10_000),
  },
  {
    key: 'a',
    title: 'SIGKILL a worker every few seconds, restart it',
    settleMaxMs: 60_000,
    async inject(stack, windows) {
      const end = Date.now() + 30_000;
      let n = 0;
      await sleep(2000);
      while (Date.now() < end) {
        if (!stack.workers.every((w) => w.ready)) {
          await sleep(250);
          continue;
        }
        const victim = stack.workers[n++ % stack.workers.length]!;
        const w = faultWindow(windows, 'a', `${victim.name} (SIGKILL)`, true);
        await victim.kill('SIGKILL');
        log(`a: killed ${victim.name}; restarting`);
        await victim.restartUntilReady();
        w.upAt = Date.now();
        log(`a: ${victim.name} polling again after ${((w.upAt - w.downAt) / 1000).toFixed(1)} s`);
        await sleep(1000);
      }
    },
  },
  {
    key: 'b',
    title: 'stop the Temporal dev server, start it again',
    settleMaxMs: 60_000,
    async inject(stack, windows) {
      await sleep(5000);
      const w = faultWindow(windows, 'b', 'temporal', true);
      await stack.temporal!.stop();
      log('b: Temporal dev server stopped');
      await sleep(10_000);
      await stack.temporal!.start();
      w.upAt = Date.now();
      log(`b: Temporal dev server back after ${((w.upAt - w.downAt) / 1000).toFixed(1)} s`);
    },
  },
  {
    key: 'c',
    title: 'stop Postgres for 20 s',
    settleMaxMs: 60_000,
    async inject(stack, windows) {
      await sleep(5000);
      const w = faultWindow(windows, 'c', 'postgres', true);
      await stack.postgres!.stop();
      log('c: Postgres stopped (pg_ctl stop -m fast)');
      await sleep(20_000);
      await stack.postgres!.start();
      w.upAt = Date.now();
      log(`c: Postgres back after ${((w.upAt - w.downAt) / 1000).toFixed(1)} s`);
    },
  },
  {
    key: 'd',
    title: 'SMTP 451 for 20 s, then sender refused (550) for 20 s',
    // Mail retries back off up to a minute: give the last ones time to arrive.
    settleMaxMs: 100_000,
    async inject(stack, windows) {
      await sleep(3000);
      const temp = faultWindow(windows, 'd', 'smtp 451 on MAIL FROM', false);
      stack.smtp!.setMode('tempfail');
      log('d: SMTP answers 451');
      await sleep(20_000);
      temp.upAt = Date.now();
      const refuse = faultWindow(windows, 'd', 'smtp 550 sender refused', false);
      stack.smtp!.setMode('refuse-sender');
      log('d: SMTP refuses the sender (550)');
      await sleep(20_000);
      stack.smtp!.setMode('accept');
      refuse.upAt = Date.now();
      log('d: SMTP accepts again');
    },
  },
];

interface ScenarioResult {
  key: string;
  title: string;
  startedAt: number;
  loadMs: number;
  settleMs: number;
  settledCleanly: boolean;
  stillBusyAfterSettle: string[];
  windows: FaultWindow[];
  commands: { sent: number; acked: number; applied: number; gaveUp: number; refused: number; refusedCodes: Record<string, number> };
  purchases: { sent: number; acked: number; refused: number; recorded: number };
  http: ReturnType<typeof checkHttp>['figures'];
  mails: Omit<ReturnType<typeof checkMails>['figures'], 'missingIds'> & { missingIds: string[] };
  payouts: { expected: number; found: number };
  workflows: Record<string, number>;
  unexpectedExits: Array<{ name: string; code: number | null; signal: string | null }>;
  /** The suite's own event-loop delay during the load: latencies are measured here, so this is their error bar. */
  harnessLoopDelayMaxMs: number;
  /** The machine's 1-minute load average at the end of the load window (2 cores, shared). */
  loadAverage: number;
  /** SMTP conversations in this scenario (load and settle): messages accepted, MAIL FROM answered 451 / 550. */
  smtp: { accepted: number; tempfailed: number; refused: number };
  failures: Anomaly[];
  /** For diagnosis: every answer but 2xx (t = seconds since the suite started), and the commands and purchases without a 2xx. */
  non2xx: Array<{ t: number; ms: number; status: number; code?: string; route: string; api: number }>;
  unacknowledged: Array<{ t: number; what: string; status: number; code?: string; attempts: number; gaveUp: boolean; tookEffect: boolean }>;
}

async function main(): Promise<number> {
  const unknown = settings.scenarios.filter((k) => !SCENARIOS.some((s) => s.key === k));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.key).join(', ')}`);
  const root = mkdtempSync('/tmp/ccx-faults-');
  chmodSync(root, 0o755); // the postgres user must reach its directory
  mkdirSync(path.join(root, 'logs'));
  const stack: Stack = { root, workers: [], apis: [] };
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    log('cleanup: stopping every process of the run');
    await Promise.all([...stack.apis, ...stack.workers].map((p) => p.close()));
    await stack.pool?.end().catch(() => {});
    await stack.connection?.close().catch(() => {});
    await stack.temporal?.destroy();
    await stack.postgres?.destroy();
    await Promise.race([stack.smtp?.stop(), sleep(3000)]);
    try {
      rmSync(path.join(resultsDir, 'logs'), { recursive: true, force: true });
      mkdirSync(resultsDir, { recursive: true });
      cpSync(path.join(root, 'logs'), path.join(resultsDir, 'logs'), { recursive: true });
      cpSync(path.join(root, 'pg', 'server.log'), path.join(resultsDir, 'logs', 'postgres.log'));
    } catch (err) {
      log(`cleanup: could not keep the logs: ${errorText(err)}`);
    }
    if (settings.keepTmp) log(`cleanup: temp dir kept at ${root}`);
    else rmSync(root, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results: ScenarioResult[] = [];
  const started = Date.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  let api: ApiClient | undefined;
  const loadLog: LoadLog = { commands: [], purchases: [] };
  let harnessError: string | undefined;
  try {
    // --- the stack -------------------------------------------------------------------------
    const [pgPort, temporalPort, ...apiPorts] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    log(`temp dir ${root}; Postgres :${pgPort}, Temporal :${temporalPort}, API :${apiPorts.join(', :')}`);
    stack.postgres = await startPrivatePostgres({ root, port: pgPort! });
    const cli = locateTemporalCli(log);
    if (!cli) throw new Error('Temporal CLI not found (.tools/temporal, TEMPORAL_CLI or PATH)');
    stack.temporal = privateTemporal({ cli, root, port: temporalPort!, namespace: 'default' });
    await stack.temporal.start();
    stack.smtp = await startFaultSmtp();
    log(`Postgres, Temporal and SMTP (${stack.smtp.url}) up`);
    const operatorKey = `faults-operator-${randomBytes(24).toString('hex')}`;
    const common = {
      DATABASE_URL: stack.postgres.url,
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      SMTP_URL: stack.smtp.url,
      CCX_OPERATOR_KEY: operatorKey,
      CCX_SECRET_KEY: randomBytes(32).toString('hex'),
      CCX_TASK_QUEUE: 'cross-client',
      CCX_MAIL_FROM: 'Cross-Client Faults <no-reply@faults-ccx.de>', // a deliverable-looking sender: the boot check refuses reserved domains
      CCX_FANOUT_RELAY_MS: '5000',
      HOST: '127.0.0.1',
    };
    const logs = path.join(root, 'logs');
    const proc = (kind: 'worker' | 'api', name: string, extra: Record<string, string>) =>
      new CcxProcess(kind, name, repoRoot, { ...common, CCX_DATA_DIR: path.join(root, 'data', name), ...extra }, logs);
    stack.workers = [proc('worker', 'worker-1', {}), proc('worker', 'worker-2', {})];
    stack.apis = apiPorts.map((port, i) => proc('api', `api-${i + 1}`, { PORT: String(port) }));
    await stack.workers[0]!.start(); // migrates and publishes the default rule set, alone
    await Promise.all([stack.workers[1]!.start(), ...stack.apis.map((a) => a.start())]);
    log('2 workers and 2 API processes ready');
    stack.pool = new pg.Pool({ connectionString: stack.postgres.url, max: 4, connectionTimeoutMillis: 3000 });
    stack.pool.on('error', () => {});
    stack.connection = await Connection.connect({ address: stack.temporal.address });
    const temporalClient = new Client({ connection: stack.connection, namespace: 'default' });
    api = new ApiClient(apiPorts.map((p) => `http://127.0.0.1:${p}`));

    // --- the world -------------------------------------------------------------------------
    const world: World = await buildWorld(api, operatorKey, { pairs: settings.pairs, shops: settings.shops }, loadLog);
    log(`world: ${settings.pairs} lifecycle pairs, ${settings.shops} shops`);
    const verifier = new Verifier(stack.pool, temporalClient, world, loadLog);
    const seen = new Set<string>();
    const windows: FaultWindow[] = [];

    // --- the scenarios ---------------------------------------------------------------------
    for (const key of settings.scenarios) {
      const def = SCENARIOS.find((s) => s.key === key)!;
      log(`=== scenario ${key}: ${def.title}`);
      api.scenario = key;
      const startedAt = Date.now();
      loopDelay.reset();
      const smtpBefore = { ...stack.smtp!.stats };
      let deadline = Infinity;
      const until = () => deadline;
      const load = Promise.all([
        ...world.pairs.filter((p) => !p.shop).map((p) => {
          p.needsResync = true; // the last window may have left it with an unknown outcome
          return drivePair(api!, stack.pool!, p, key, until, settings.thinkMs, loadLog);
        }),
        ...world.shops.map((s) => driveShop(api!, s, key, until, settings.thinkMs, loadLog)),
      ]);
      try {
        await def.inject(stack, windows);
      } finally {
        deadline = Date.now() + settings.tailMs;
      }
      await load;
      const loadMs = Date.now() - startedAt;
      const harnessLoopDelayMaxMs = Math.round(loopDelay.max / 1e6);
      const loadAverage = loadavg()[0]!;
      api.scenario = `${key}:settle`;

      // Every part up again (a process that died on its own is being restarted).
      await Promise.all([...stack.workers, ...stack.apis].map((p) => (p.ready ? undefined : p.restartUntilReady())));
      stack.smtp.setMode('accept');

      // Settle: bounded wait for the work in flight.
      const settleStart = Date.now();
      let busy: string[] = [];
      let settledCleanly = false;
      for (;;) {
        try {
          const commands = await verifier.checkCommands();
          const expected = (await verifier.expectedMails(commands.rowScenario)).filter((m) => m.scenario === key);
          const missing = expected.filter((m) => !stack.smtp!.received.has(m.messageId));
          busy = [...(await verifier.stillBusy()), ...(missing.length ? [`${missing.length} mail(s) not yet received`] : [])];
        } catch (err) {
          busy = [`verifier: ${errorText(err)}`];
        }
        if (busy.length === 0 && Date.now() - settleStart > 2000) {
          settledCleanly = true;
          break;
        }
        if (Date.now() - settleStart > def.settleMaxMs) break;
        await sleep(2000);
      }
      const settleMs = Date.now() - settleStart;
      log(`${key}: settled in ${(settleMs / 1000).toFixed(1)} s${settledCleanly ? '' : ` (deadline; still busy: ${busy.slice(0, 3).join('; ')}${busy.length > 3 ? ` … ${busy.length} items` : ''})`}`);

      // Verify.
      const commands = await verifier.checkCommands();
      const payouts = await verifier.checkPayouts();
      const expected = await verifier.expectedMails(commands.rowScenario);
      const mails = checkMails(key, expected, stack.smtp.received);
      const workflows = await verifier.checkWorkflows(key);
      const mine = windows.filter((w) => w.scenario === key);
      const http = checkHttp(key, api.attempts, mine, settings.graceMs);
      const exits = [...stack.workers, ...stack.apis].flatMap((p) => p.unexpectedExits.filter((e) => e.at >= startedAt));
      const expectedIds = new Set(expected.map((m) => m.messageId));
      const unexpectedMails = [...stack.smtp.received.keys()].filter((id) => !expectedIds.has(id));
      const candidates: Anomaly[] = [
        ...commands.anomalies,
        ...payouts.anomalies,
        ...mails.anomalies,
        ...workflows.anomalies,
        ...http.anomalies,
        ...exits.map((e): Anomaly => ({ scenario: key, check: 'processes', detail: `${e.name} exited on its own (code ${e.code}, signal ${e.signal}) at ${elapsed(e.at)}s: ${e.tail.split('\n').slice(-3).join(' | ')}` })),
        ...unexpectedMails.map((id): Anomaly => ({ scenario: key, check: 'mails', detail: `mail ${id} arrived but no event owes it` })),
      ];
      const known = new Set(settings.scenarios);
      const failures: Anomaly[] = [];
      for (const a of candidates) {
        const id = `${a.check}|${a.detail}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const attributed = known.has(a.scenario) || a.scenario === 'setup' ? a : { ...a, scenario: key };
        // Found now, about an earlier window: reported there.
        const earlier = attributed.scenario !== key ? results.find((r) => r.key === attributed.scenario) : undefined;
        if (earlier) earlier.failures.push({ ...attributed, detail: `${attributed.detail} (found after scenario ${key})` });
        else failures.push(attributed);
      }
      const cmds = loadLog.commands.filter((c) => c.scenario === key);
      const buys = loadLog.purchases.filter((p) => p.scenario === key);
      const refused = cmds.filter((c) => !c.acked && !c.gaveUp);
      const result: ScenarioResult = {
        key,
        title: def.title,
        startedAt,
        loadMs,
        settleMs,
        settledCleanly,
        stillBusyAfterSettle: busy,
        windows: mine,
        commands: {
          sent: cmds.length,
          acked: cmds.filter((c) => c.acked).length,
          applied: cmds.filter((c) => commands.applied.get(c.seq)).length,
          gaveUp: cmds.filter((c) => c.gaveUp).length,
          refused: refused.length,
          refusedCodes: Object.fromEntries(Object.entries(refused.reduce<Record<string, number>>((m, c) => ({ ...m, [`${c.kind} ${c.status} ${c.code ?? ''}`.trim()]: (m[`${c.kind} ${c.status} ${c.code ?? ''}`.trim()] ?? 0) + 1 }), {}))),
        },
        purchases: { sent: buys.length, acked: buys.filter((p) => p.acked).length, refused: buys.filter((p) => !p.acked && !p.gaveUp).length, recorded: payouts.perScenario.get(key)?.recorded ?? 0 },
        http: http.figures,
        mails: mails.figures,
        payouts: { expected: payouts.perScenario.get(key)?.expected ?? 0, found: payouts.perScenario.get(key)?.found ?? 0 },
        workflows: workflows.counts,
        unexpectedExits: exits.map((e) => ({ name: e.name, code: e.code, signal: e.signal })),
        harnessLoopDelayMaxMs,
        loadAverage: Number(loadAverage.toFixed(2)),
        smtp: {
          accepted: stack.smtp.stats.accepted - smtpBefore.accepted,
          tempfailed: stack.smtp.stats.tempfailed - smtpBefore.tempfailed,
          refused: stack.smtp.stats.refused - smtpBefore.refused,
        },
        failures,
        non2xx: api.attempts
          .filter((a) => a.scenario === key && (a.status < 200 || a.status >= 300))
          .map((a) => ({ t: rel(a.startedAt), ms: a.ms, status: a.status, ...(a.code ? { code: a.code } : {}), route: `${a.method} ${a.route}`, api: a.api })),
        unacknowledged: [
          ...cmds.filter((c) => !c.acked).map((c) => ({
            t: rel(c.sentAt), what: `pair ${c.pair} ${c.kind} #${c.seq}`, status: c.status, ...(c.code ? { code: c.code } : {}), attempts: c.attempts, gaveUp: c.gaveUp,
            tookEffect: commands.applied.get(c.seq) ?? false,
          })),
          ...buys.filter((p) => !p.acked).map((p) => ({
            t: rel(p.sentAt), what: `order ${p.orderId}`, status: p.status, ...(p.code ? { code: p.code } : {}), attempts: p.attempts, gaveUp: p.gaveUp,
            tookEffect: payouts.recorded.has(`${p.sellerClientId}:${p.orderId}`),
          })),
        ],
      };
      results.push(result);
      log(`${key}: ${result.commands.sent} commands (${result.commands.acked} acked, ${result.commands.applied} applied), ${result.purchases.sent} purchases, ${http.figures.n503} × 503, ${failures.length} failure(s)`);
    }

    // Mails missing at verification may have arrived since (slow, not lost): say which.
    const finalCommands = await verifier.checkCommands();
    const finalExpected = await verifier.expectedMails(finalCommands.rowScenario);
    for (const r of results) {
      const still = checkMails(r.key, finalExpected, stack.smtp.received).figures;
      (r.mails as Record<string, unknown>).missingAtEndOfRun = still.missing;
    }
  } catch (err) {
    harnessError = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`HARNESS FAILURE: ${harnessError}`);
  }

  const summary = report(results, harnessError, Date.now() - started, loadLog, api);
  await cleanup();
  console.log(summary);
  if (harnessError) return 2;
  return results.some((r) => r.failures.length > 0) ? 1 : 0;
}

function report(results: ScenarioResult[], harnessError: string | undefined, totalMs: number, loadLog: LoadLog, api: ApiClient | undefined): string {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    path.join(resultsDir, 'last-run.json'),
    `${JSON.stringify({ finishedAt: new Date().toISOString(), totalSeconds: Math.round(totalMs / 1000), settings, harnessError, scenarios: results.map((r) => ({ ...r, mails: { ...r.mails, missingIds: r.mails.missingIds.slice(0, 50) } })), attempts: api?.attempts.length ?? 0, commands: loadLog.commands.length, purchases: loadLog.purchases.length }, null, 2)}\n`,
  );
  const head = ['scenario', 'cmds sent', 'acked', 'applied', 'buys sent', 'acked', '503s', '500s', 'max 503 ms', 'mails exp', 'recv', 'raw dup', 'payout exp', 'found', 'result'];
  const rows = results.map((r) => [
    r.key, r.commands.sent, r.commands.acked, r.commands.applied, r.purchases.sent, r.purchases.acked, r.http.n503, r.http.n500, r.http.max503Ms,
    r.mails.expected, r.mails.receivedDistinct, r.mails.rawDuplicates, r.payouts.expected, r.payouts.found, r.failures.length ? `FAIL (${r.failures.length})` : 'pass',
  ].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = ['', `Fault suite — ${Math.round(totalMs / 1000)} s`, line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''];
  for (const r of results) {
    out.push(`${r.key}: ${r.title} — load ${(r.loadMs / 1000).toFixed(0)} s, settle ${(r.settleMs / 1000).toFixed(0)} s${r.settledCleanly ? '' : ' (hit its deadline)'}; ` +
      `faults: ${r.windows.map((w) => `${w.part} ${rel(w.downAt)}–${w.upAt ? rel(w.upAt) : '?'} s`).join(', ') || 'none'}; ` +
      `outcome still unknown at the window's end: ${r.commands.gaveUp} command(s), ${r.purchases.sent - r.purchases.acked - r.purchases.refused} purchase(s); commands refused ${JSON.stringify(r.commands.refusedCodes)}; 503 outside outages ${r.http.n503Outside}; no answer ${r.http.noAnswer}; max latency ${r.http.maxMs} ms (suite's own event-loop delay ≤ ${r.harnessLoopDelayMaxMs} ms, load average ${r.loadAverage}); ` +
      `2xx p50/p95 commands ${r.http.ackedMs.commands.p50}/${r.http.ackedMs.commands.p95} ms, purchases ${r.http.ackedMs.purchases.p50}/${r.http.ackedMs.purchases.p95} ms; ` +
      `SMTP accepted ${r.smtp.accepted}, 451 ${r.smtp.tempfailed}, 550 ${r.smtp.refused}; ` +
      `mails missing ${r.mails.missing} (at end of run ${(r.mails as Record<string, unknown>).missingAtEndOfRun ?? '?'})`);
    const byCheck = new Map<string, Anomaly[]>();
    for (const f of r.failures) byCheck.set(f.check, [...(byCheck.get(f.check) ?? []), f]);
    for (const [check, list] of byCheck) {
      out.push(`  FAIL ${check} (${list.length}):`);
      for (const f of list.slice(0, 6)) out.push(`    - ${f.detail}`);
      if (list.length > 6) out.push(`    … ${list.length - 6} more (test/faults/results/last-run.json)`);
    }
  }
  if (harnessError) out.push('', `HARNESS FAILURE (the run is incomplete): ${harnessError}`);
  out.push('', results.some((r) => r.failures.length) || harnessError ? 'fault suite: FAILED' : 'fault suite: all checks passed', '');
  return out.join('\n');
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
