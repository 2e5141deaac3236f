/**
 * `npm run bench:lifecycle` (issue 13): the connection lifecycle invite → accept → offer access off
 * → block through HTTP, the product (`ccx start` in its own process) against a plain hand-written
 * Temporal workflow with the same effects (bench/plain, its own process), on one fresh dev server,
 * database and SMTP sink. C concurrent callers, each lifecycle on a client pair of its own; rounds
 * interleaved (baseline, product | product, baseline | …); every figure a ratio product/baseline
 * per paired round, reported as the median over rounds. Then the limit: the same plain lifecycle
 * with no activities at all. Options (flag or env): --rounds (BENCH_ROUNDS, 5), --callers (20,50),
 * --lifecycles (per caller per round, BENCH_LIFECYCLES; default about 80 per round), --limit-rounds (3; 0 = none).
 * Exits 1 when a stack does not start, a baseline lifecycle fails or a baseline mail is missing.
 */
import { createPlainSchema } from './plain/schema.ts';
import { failureOf, latency, ok, runCallers, send, type RunSummary } from './harness/driver.ts';
import { environment } from './harness/env.ts';
import { eventTypesOf, otherWorkflowsStarted, sampleHistories } from './harness/history.ts';
import { PRODUCT_TASK_QUEUE, startInfra, type Service } from './harness/infra.ts';
import { printTable, writeResults } from './harness/results.ts';
import { clientsFor, pairsOf, seedPlainClients, seedProductClients, type Pair } from './harness/seed.ts';
import { listOption, openSession, option, orderOf, type Session } from './harness/session.ts';
import { median, round2, round3 } from './harness/stats.ts';
import pg from 'pg';

const ROUNDS = option('rounds', 5);
const CALLERS = listOption('callers', [20, 50]);
/** Per caller and round: given, or about 80 lifecycles per round whatever the callers. */
const PER_CALLER_GIVEN = option('lifecycles', 0);
const perCaller = (callers: number) => PER_CALLER_GIVEN || Math.max(1, Math.ceil(80 / callers));
const LIMIT_ROUNDS = option('limit-rounds', 3);
const MAILS_PER_LIFECYCLE = 4; // invitation → target, accepted → source, offerAccessChanged → target, blocked → target

type Variant = 'baseline' | 'product' | 'limit';

interface Lifecycle {
  ok: boolean;
  busy: number;
  failure?: string;
  workflowId?: string;
  invitationMs: number;
  updateMs: number[];
  lifecycleMs: number;
}

async function lifecycle(base: string, [source, target]: Pair): Promise<Lifecycle> {
  const started = performance.now();
  const invite = await send(base, 'POST', '/v1/connections', source.key, { targetClientId: target.id, offerAccess: true });
  const done = (failure?: string): Lifecycle => ({ ok: !failure, busy, failure, workflowId: invite.body?.workflowId, invitationMs: invite.ms, updateMs, lifecycleMs: performance.now() - started });
  let busy = invite.busy;
  const updateMs: number[] = [];
  if (!ok(invite)) return done(failureOf('invite', invite));
  const id = invite.body.id as string;
  const steps: Array<[string, string, string, string, unknown?]> = [
    ['accept', 'POST', `/v1/connections/${id}/accept`, target.key],
    ['offerAccess', 'PATCH', `/v1/connections/${id}`, source.key, { offerAccess: false }],
    ['block', 'POST', `/v1/connections/${id}/block`, source.key],
  ];
  for (const [step, method, path, key, body] of steps) {
    const answer = await send(base, method, path, key, body);
    busy += answer.busy;
    updateMs.push(answer.ms);
    if (!ok(answer)) return done(failureOf(step, answer));
  }
  return done();
}

interface Round {
  variant: Variant;
  callers: number;
  round: number;
  summary: RunSummary;
  lifecyclesPerSecond: number;
  invitation: { p50: number; p99: number };
  update: { p50: number; p99: number };
  lifecycle: { p50: number; p99: number };
  historyEvents: number;
  historyLengths: number[];
  workflowStatuses: Record<string, number>;
  otherWorkflows: number | null;
}

async function main(): Promise<number> {
  const needed = CALLERS.reduce((sum, c) => sum + c * (ROUNDS * perCaller(c) + 1), 0);
  const infra = await startInfra('lifecycle', { limit: LIMIT_ROUNDS > 0, beforeStacks: async (url) => {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await createPlainSchema(db);
    await db.end();
  } });
  let session: Session | undefined;
  try {
    const clients = clientsFor(needed);
    console.log(`[setup] seeding ${clients} clients per stack (${needed} pairs: the product's through its API)`);
    const stacks: Record<Variant, { service: Service; pairs: Pair[]; next: number }> = {
      product: { service: infra.product, pairs: pairsOf(await seedProductClients(infra.product.base, infra.operatorKey, clients)), next: 0 },
      baseline: { service: infra.plain, pairs: pairsOf(await seedPlainClients(infra.db.url, clients)), next: 0 },
      limit: { service: infra.limit ?? infra.plain, pairs: [], next: 0 },
    };
    stacks.limit.pairs = stacks.baseline.pairs; // other workflow ids (limit:…), other task queue
    session = await openSession(infra);
    const env = await environment(infra.db.url);
    const s = session;

    const run = async (variant: Variant, callers: number, perCaller: number, round: number): Promise<Round> => {
      const stack = stacks[variant];
      const since = new Date();
      const { results, summary } = await runCallers(callers, perCaller, () => lifecycle(stack.service.base, stack.pairs[stack.next++]!));
      const ids = results.filter((r) => r.ok && r.workflowId).map((r) => r.workflowId!);
      const history = ids.length > 0 ? await sampleHistories(s.client, ids) : { median: NaN, lengths: [], statuses: {} };
      const r: Round = {
        variant, callers, round, summary,
        lifecyclesPerSecond: summary.perSecond,
        invitation: latency(results.map((x) => x.invitationMs)),
        update: latency(results.flatMap((x) => x.updateMs)),
        lifecycle: latency(results.filter((x) => x.ok).map((x) => x.lifecycleMs)),
        historyEvents: history.median,
        historyLengths: history.lengths,
        workflowStatuses: history.statuses,
        otherWorkflows: variant === 'product' ? await otherWorkflowsStarted(s.client, PRODUCT_TASK_QUEUE, 'connectionWorkflow', since) : 0,
      };
      if (round >= 0) {
        console.log(
          `[${variant.padEnd(8)} C=${callers} round ${round + 1}] ${summary.ok}/${summary.items} lifecycles in ${summary.seconds.toFixed(1)} s = ${summary.perSecond.toFixed(2)}/s; ` +
            `update p50 ${r.update.p50.toFixed(0)} p99 ${r.update.p99.toFixed(0)} ms; invitation p50 ${r.invitation.p50.toFixed(0)} ms; lifecycle p99 ${r.lifecycle.p99.toFixed(0)} ms; ` +
            `history ${r.historyEvents}${summary.failed ? `; FAILED ${JSON.stringify(summary.failures)}` : ''}${summary.busy ? `; 429s ${summary.busy}` : ''}`,
        );
      }
      await s.quiesce();
      return r;
    };

    const rounds: Round[] = [];
    let baselineFailed = 0;
    for (const callers of CALLERS) {
      console.log(`[warm-up C=${callers}] one lifecycle per caller on each stack`);
      for (const v of ['baseline', 'product'] as const) {
        const w = await run(v, callers, 1, -1);
        if (v === 'baseline') baselineFailed += w.summary.failed;
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const v of orderOf(round, 'baseline', 'product') as Variant[]) {
          const r = await run(v, callers, perCaller(callers), round);
          rounds.push(r);
          if (v === 'baseline') baselineFailed += r.summary.failed;
        }
      }
    }
    const limitCallers = CALLERS[0]!;
    if (infra.limit) {
      await run('limit', limitCallers, 1, -1);
      for (let round = 0; round < LIMIT_ROUNDS; round++) rounds.push(await run('limit', limitCallers, perCaller(limitCallers), round));
    }

    // Every baseline mail must have reached the sink (the product's are reported).
    const expectedPlainMails = (stacks.baseline.next - baselineFailed) * MAILS_PER_LIFECYCLE;
    const mails = { baseline: infra.sink.count('plain'), product: infra.sink.count('ccx'), baselineExpected: expectedPlainMails, productLifecycles: stacks.product.next };

    // One lifecycle of each (the first of the first warm-up, complete by now): its event types.
    const firstIds = (v: Variant) => {
      const [source, target] = stacks[v].pairs[0]!;
      return `${v === 'product' ? 'connection' : v === 'baseline' ? 'plain' : 'limit'}:${source.id}:${target.id}`;
    };
    const eventTypes = {
      product: await eventTypesOf(s.client, firstIds('product')).catch((e: unknown) => ({ error: String(e) })),
      baseline: await eventTypesOf(s.client, firstIds('baseline')).catch((e: unknown) => ({ error: String(e) })),
      limit: infra.limit ? await eventTypesOf(s.client, firstIds('limit')).catch((e: unknown) => ({ error: String(e) })) : undefined,
    };

    const paired = (callers: number) =>
      Array.from({ length: ROUNDS }, (_, round) => {
        const b = rounds.find((r) => r.variant === 'baseline' && r.callers === callers && r.round === round)!;
        const p = rounds.find((r) => r.variant === 'product' && r.callers === callers && r.round === round)!;
        return {
          round: round + 1,
          throughput: p.lifecyclesPerSecond / b.lifecyclesPerSecond,
          updateP99: p.update.p99 / b.update.p99,
          updateP50: p.update.p50 / b.update.p50,
          invitationP50: p.invitation.p50 / b.invitation.p50,
          lifecycleP99: p.lifecycle.p99 / b.lifecycle.p99,
          history: p.historyEvents / b.historyEvents,
        };
      });
    const ratioRows = Object.fromEntries(CALLERS.map((c) => [c, paired(c)]));
    const med = (c: number, k: keyof ReturnType<typeof paired>[number]) => round3(median((ratioRows[c] ?? []).map((r) => r[k])));
    const of = (v: Variant, c: number, f: (r: Round) => number) => round2(median(rounds.filter((r) => r.variant === v && r.callers === c).map(f)));
    const [c20, c50] = [CALLERS[0]!, CALLERS[1] ?? CALLERS[0]!];
    const limitThroughput = of('limit', limitCallers, (r) => r.lifecyclesPerSecond);
    const productThroughput20 = of('product', c20, (r) => r.lifecyclesPerSecond);
    const headline = {
      lifecycleThroughputRatio: med(c20, 'throughput'),
      lifecycleThroughputRatio50: med(c50, 'throughput'),
      updateP99LatencyRatio: med(c20, 'updateP99'),
      updateP50LatencyRatio: med(c20, 'updateP50'),
      historyEventsRatio: med(c20, 'history'),
      shed50: rounds.filter((r) => r.variant === 'product' && r.callers === c50).reduce((s2, r) => s2 + r.summary.failed, 0),
      lifecycleP99Ms: { product: of('product', c20, (r) => r.lifecycle.p99), baseline: of('baseline', c20, (r) => r.lifecycle.p99), product50: of('product', c50, (r) => r.lifecycle.p99), baseline50: of('baseline', c50, (r) => r.lifecycle.p99) },
      limitLifecyclesPerSecond: limitThroughput,
      productToLimitRatio: limitThroughput ? round3((productThroughput20 ?? NaN) / limitThroughput) : null,
    };
    const checks = {
      baselineFailures: baselineFailed,
      mails,
      ok: baselineFailed === 0 && mails.baseline >= expectedPlainMails,
    };

    console.log(`\nlifecycle benchmark: ${ROUNDS} paired rounds, ${CALLERS.map((c) => `${c} callers × ${perCaller(c)}`).join(' and ')} lifecycles; medians over rounds`);
    console.log(`machine: ${env.cores} cores, ${env.memoryGb} GB, node ${env.node}, ${env.temporalDevServer}, commit ${env.commit.slice(0, 12)}${env.dirty ? ' (dirty)' : ''}`);
    const table: Array<Array<string | number | null>> = [];
    for (const c of CALLERS) {
      for (const v of ['baseline', 'product'] as const) {
        table.push([`${v} C=${c}`, of(v, c, (r) => r.lifecyclesPerSecond), of(v, c, (r) => r.invitation.p50), of(v, c, (r) => r.update.p50), of(v, c, (r) => r.update.p99), of(v, c, (r) => r.lifecycle.p99), of(v, c, (r) => r.historyEvents), rounds.filter((r) => r.variant === v && r.callers === c).reduce((s2, r) => s2 + r.summary.failed, 0)]);
      }
    }
    if (infra.limit) table.push([`limit C=${limitCallers}`, limitThroughput, of('limit', limitCallers, (r) => r.invitation.p50), of('limit', limitCallers, (r) => r.update.p50), of('limit', limitCallers, (r) => r.update.p99), of('limit', limitCallers, (r) => r.lifecycle.p99), of('limit', limitCallers, (r) => r.historyEvents), rounds.filter((r) => r.variant === 'limit').reduce((s2, r) => s2 + r.summary.failed, 0)]);
    printTable(['variant', 'lifecycles/s', 'invite p50', 'update p50', 'update p99', 'lifecycle p99', 'history events', 'not 2xx'], table);
    console.log('');
    printTable(['ratio product/baseline (median)', ...CALLERS.map((c) => `C=${c}`)], [
      ['lifecycles/s', ...CALLERS.map((c) => med(c, 'throughput'))],
      ['update p50', ...CALLERS.map((c) => med(c, 'updateP50'))],
      ['update p99', ...CALLERS.map((c) => med(c, 'updateP99'))],
      ['invitation p50', ...CALLERS.map((c) => med(c, 'invitationP50'))],
      ['lifecycle p99', ...CALLERS.map((c) => med(c, 'lifecycleP99'))],
      ['history events', ...CALLERS.map((c) => med(c, 'history'))],
    ]);
    console.log(`\nlimit (no activities) C=${limitCallers}: ${limitThroughput ?? '–'} lifecycles/s; product/limit ${headline.productToLimitRatio ?? '–'}`);
    console.log(`shed50 (product lifecycles at C=${c50} not ending in 2xx): ${headline.shed50}`);
    for (const [v, e] of Object.entries(eventTypes)) {
      if (e && 'types' in e) console.log(`${v} history (${e.events} events, ${e.workflowTasks} workflow tasks, ${e.activities} activities, ${e.localActivityMarkers} markers, ${e.updates} updates): ${e.types.join(' ')}`);
    }
    console.log(`mails at the sink: baseline ${mails.baseline} (expected ${expectedPlainMails}), product ${mails.product} (${stacks.product.next} lifecycles)`);
    const file = writeResults('lifecycle', headline, {
      benchmark: 'lifecycle',
      settings: { rounds: ROUNDS, callers: CALLERS, lifecyclesPerCaller: Object.fromEntries(CALLERS.map((c) => [c, perCaller(c)])), limitRounds: LIMIT_ROUNDS, tries: Number(process.env.BENCH_TRIES ?? 3) },
      environment: env,
      ratiosPerRound: ratioRows,
      historyEventTypes: eventTypes,
      checks,
      rounds: rounds.map((r) => ({ ...r, summary: { ...r.summary, seconds: round3(r.summary.seconds), perSecond: round3(r.summary.perSecond) } })),
    });
    console.log(`wrote ${file} and bench/results/latest.json`);
    if (!checks.ok) console.error(`BASELINE BROKEN: ${baselineFailed} failed lifecycles, ${mails.baseline} of ${expectedPlainMails} mails — the ratios are not valid`);
    return checks.ok ? 0 : 1;
  } finally {
    await session?.close();
    await infra.stop();
  }
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  return 1;
});
