/**
 * `npm run bench:purchases` (issue 13): purchases of one active cart with a cross-client offer,
 * `POST /v1/carts/{id}/purchases` with distinct order ids from C concurrent callers, the product
 * (seeded through its API as a user would: connection accepted with offer access, offers, cart,
 * activate) against the plain baseline, which authorizes each sale against its plain connection
 * workflow (update `authorizeSale`: status and offer access) and writes the order, its payout row
 * and the sale mail in one activity. Rounds interleaved; the ratio is the median over paired
 * rounds. Options: --rounds (5), --callers (20), --purchases (per caller per round, 4),
 * --callbacks (issue 14: the source is a client of another contracting company and every sale
 * also sends it a signed callback, on both stacks — the product's dispatcher, the baseline's
 * outbox row and relay — to a receiver in this process; results under `purchases-callbacks`).
 * Exits 1 when a stack does not start, a baseline purchase fails, a baseline mail is missing, or
 * with --callbacks a purchase's callback has not arrived 30 s after its round.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createPlainSchema } from './plain/schema.ts';
import { failureOf, latency, ok, runCallers, send, type Answer, type RunSummary } from './harness/driver.ts';
import { startCallbackReceiver } from './harness/callbacks.ts';
import { cpuMeter, type CpuParts } from './harness/cpu.ts';
import { environment } from './harness/env.ts';
import { eventTypesOf, sampleHistories, stepTimings } from './harness/history.ts';
import { startInfra } from './harness/infra.ts';
import { printTable, writeResults } from './harness/results.ts';
import { seedPlainClients, seedProductClients, type BenchClient } from './harness/seed.ts';
import { flag, openSession, option, orderOf, type Session } from './harness/session.ts';
import { median, round2, round3 } from './harness/stats.ts';

const ROUNDS = option('rounds', 5);
const CALLERS = option('callers', 20);
const PER_CALLER = option('purchases', 4);
const CALLBACKS = flag('callbacks');

type Variant = 'baseline' | 'product';
/** Where the source wants its callbacks (the invitation carries it). */
type Callback = { url: string; secret: string };

interface Shop {
  base: string;
  seller: BenchClient;
  cartId: string;
  items: Array<{ offerId: string; amountMinor: number }>;
  purchaseWorkflowId: (orderId: string) => string;
  connectionWorkflowId: string;
}

async function must(status: number, answer: Promise<Answer>, what: string) {
  const a = await answer;
  if (a.status !== status) throw new Error(`seeding: ${what} answered ${a.status} ${JSON.stringify(a.body)}`);
  return a.body;
}

/**
 * The product's shop, through its API: connection with offer access, a shared offer, the seller's own, an active cart.
 * With a callback the source belongs to another contracting company than the seller: only across
 * companies is a source told of its sales (and there a connection must have a callback).
 */
async function productShop(base: string, operatorKey: string, callback?: Callback): Promise<Shop> {
  const [source, seller] = (callback
    ? [...(await seedProductClients(base, operatorKey, 1)), ...(await seedProductClients(base, operatorKey, 1, 1))]
    : await seedProductClients(base, operatorKey, 2)) as [BenchClient, BenchClient];
  const connection = await must(201, send(base, 'POST', '/v1/connections', source.key, { targetClientId: seller.id, offerAccess: true, ...(callback ? { callback } : {}) }), 'invite');
  await must(200, send(base, 'POST', `/v1/connections/${connection.id}/accept`, seller.key), 'accept');
  const offer = (owner: BenchClient, title: string, shared: boolean) =>
    must(201, send(base, 'POST', '/v1/offers', owner.key, {
      title, priceMinor: 999, currency: 'EUR', crossClient: shared, ...(shared ? { connectedClientIds: [seller.id] } : {}), products: [{ name: title, costCenter: 'KST-100' }],
    }), 'offer');
  const shared = await offer(source, 'Digitalabo Morgenpost', true);
  const own = await offer(seller, 'Digitalabo Abendblatt', false);
  const cart = await must(201, send(base, 'POST', '/v1/carts', seller.key, { title: 'Kombiabo', items: [{ offerId: own.id, mandatory: true }, { offerId: shared.id, mandatory: false }] }), 'cart');
  await must(200, send(base, 'POST', `/v1/carts/${cart.id}/activate`, seller.key), 'activate');
  return {
    base, seller, cartId: cart.id,
    items: [{ offerId: own.id, amountMinor: 999 }, { offerId: shared.id, amountMinor: 999 }],
    purchaseWorkflowId: (orderId) => `purchase:${seller.id}:${orderId}`,
    connectionWorkflowId: connection.workflowId,
  };
}

/** The baseline's shop: the connection through its HTTP hop, offers and cart as rows of its tables. */
async function plainShop(base: string, dbUrl: string, callback?: Callback): Promise<Shop> {
  const [source, seller] = (await seedPlainClients(dbUrl, 2)) as [BenchClient, BenchClient];
  const connection = await must(201, send(base, 'POST', '/v1/connections', source.key, { targetClientId: seller.id, offerAccess: true, ...(callback ? { callback } : {}) }), 'invite');
  await must(200, send(base, 'POST', `/v1/connections/${connection.id}/accept`, seller.key), 'accept');
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const [sharedId, ownId, cartId] = [randomUUID(), randomUUID(), randomUUID()];
  await db.query(`insert into plain.offers values ($1, $2, 'Digitalabo Morgenpost', 999, 'EUR', 'KST-100'), ($3, $4, 'Digitalabo Abendblatt', 999, 'EUR', 'KST-100')`, [sharedId, source.id, ownId, seller.id]);
  const items = [
    { offerId: ownId, sourceClientId: null, title: 'Digitalabo Abendblatt', costCenter: 'KST-100' },
    { offerId: sharedId, sourceClientId: source.id, title: 'Digitalabo Morgenpost', costCenter: 'KST-100' },
  ];
  await db.query(`insert into plain.carts values ($1, $2, 'active', 'EUR', $3)`, [cartId, seller.id, JSON.stringify(items)]);
  await db.end();
  return {
    base, seller, cartId,
    items: [{ offerId: ownId, amountMinor: 999 }, { offerId: sharedId, amountMinor: 999 }],
    purchaseWorkflowId: (orderId) => `plain-purchase:${seller.id}:${orderId}`,
    connectionWorkflowId: connection.workflowId,
  };
}

interface Round {
  variant: Variant;
  round: number;
  summary: RunSummary;
  purchasesPerSecond: number;
  latency: { p50: number; p99: number };
  historyEvents: number;
  connectionEventsPerPurchase: number;
  /** CPU milliseconds per purchase: the dev server, this variant's process, PostgreSQL. */
  cpuMsPerPurchase: CpuParts;
  /** --callbacks: the round's purchases answered 2xx, those whose callback had not arrived, how long the wait took. */
  callbacks?: { expected: number; missing: number; waitedMs: number };
}

/** How each stack's callback reads at the receiver: the product's per docs/callbacks.md, the baseline's per bench/plain/callback-relay.ts. */
const startReceiver = () =>
  startCallbackReceiver<Variant>({
    product: { idHeader: 'x-ccx-delivery', signatureHeader: 'x-ccx-signature', orderIdOf: (p) => p.entity?.orderId },
    baseline: { idHeader: 'x-delivery-id', signatureHeader: 'x-signature', orderIdOf: (p) => p.order?.orderId },
  });

async function main(): Promise<number> {
  // Callbacks go to this process on loopback, which the product refuses unless told otherwise; the baseline writes and sends them only when told.
  const stackEnv = CALLBACKS ? { product: { CCX_ALLOW_INSECURE_CALLBACKS: '1' }, plain: { PLAIN_CALLBACKS: '1' } } : undefined;
  const infra = await startInfra('purchases', { limit: false, env: stackEnv, beforeStacks: async (url) => {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await createPlainSchema(db);
    await db.end();
  } });
  let session: Session | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  try {
    receiver = CALLBACKS ? await startReceiver() : undefined;
    const rx = receiver;
    console.log(`[setup] seeding a connection${CALLBACKS ? ' with a callback' : ''}, offers and an active cart on each stack`);
    const shops: Record<Variant, Shop> = {
      product: await productShop(infra.product.base, infra.operatorKey, rx?.callback('product')),
      baseline: await plainShop(infra.plain.base, infra.db.url, rx?.callback('baseline')),
    };
    session = await openSession(infra);
    const s = session;
    const env = await environment(infra.db.url);
    let orders = 0;
    // Per round, the median time between consecutive events of a purchase's history.
    const steps: Record<Variant, Array<Array<{ step: string; ms: number }>>> = { baseline: [], product: [] };
    const firstOk: Partial<Record<Variant, string>> = {};
    // --callbacks: when each purchase was answered (2xx), and the callbacks still missing after the waits.
    const answeredAt: Record<Variant, Map<string, number>> = { baseline: new Map(), product: new Map() };
    const missingCallbacks: Record<Variant, number> = { baseline: 0, product: 0 };

    const run = async (variant: Variant, perCaller: number, round: number): Promise<Round> => {
      const shop = shops[variant];
      const connectionBefore = (await s.client.workflow.getHandle(shop.connectionWorkflowId).describe()).historyLength;
      const cpu = cpuMeter({ temporal: infra.temporal.pid, stack: (variant === 'product' ? infra.product : infra.plain).child.pid });
      const { results, summary } = await runCallers(CALLERS, perCaller, async () => {
        const orderId = `order-${variant}-${++orders}`;
        const answer = await send(shop.base, 'POST', `/v1/carts/${shop.cartId}/purchases`, shop.seller.key, {
          orderId, customerId: `kunde-${orders}`, paymentMethod: 'PAYPAL', currency: 'EUR', items: shop.items,
        });
        if (rx && ok(answer)) answeredAt[variant].set(orderId, performance.now());
        return { ok: ok(answer), busy: answer.busy, failure: ok(answer) ? undefined : failureOf('purchase', answer), ms: answer.ms, workflowId: shop.purchaseWorkflowId(orderId), orderId };
      });
      const cpuSeconds = cpu.stop();
      const connectionAfter = (await s.client.workflow.getHandle(shop.connectionWorkflowId).describe()).historyLength;
      const ids = results.filter((r) => r.ok).map((r) => r.workflowId);
      firstOk[variant] ??= ids[0];
      const history = ids.length > 0 ? await sampleHistories(s.client, ids) : { median: NaN };
      if (round >= 0 && ids.length > 0) steps[variant].push(await stepTimings(s.client, ids));
      // After the round's measurement, so the wait is not timed; before the next round, so that one does not pay for this one's deliveries.
      let callbacks: Round['callbacks'];
      if (rx) {
        const waitStarted = performance.now();
        const missing = await rx.waitFor(variant, results.filter((x) => x.ok).map((x) => x.orderId));
        callbacks = { expected: summary.ok, missing: missing.length, waitedMs: Math.round(performance.now() - waitStarted) };
        missingCallbacks[variant] += missing.length;
      }
      const r: Round = {
        variant, round, summary,
        purchasesPerSecond: summary.perSecond,
        latency: latency(results.map((x) => x.ms)),
        historyEvents: history.median,
        // Negative when the connection continued as new meanwhile: then not counted.
        connectionEventsPerPurchase: connectionAfter >= connectionBefore ? (connectionAfter - connectionBefore) / summary.items : NaN,
        cpuMsPerPurchase: Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, Math.round((v * 1000) / summary.items)])),
        ...(callbacks ? { callbacks } : {}),
      };
      if (round >= 0) {
        console.log(
          `[${variant.padEnd(8)} round ${round + 1}] ${summary.ok}/${summary.items} purchases in ${summary.seconds.toFixed(1)} s = ${summary.perSecond.toFixed(2)}/s; ` +
            `p50 ${r.latency.p50.toFixed(0)} p99 ${r.latency.p99.toFixed(0)} ms; purchase history ${r.historyEvents}, connection +${r.connectionEventsPerPurchase.toFixed(1)} events/purchase; ` +
            `CPU ms/purchase ${Object.entries(r.cpuMsPerPurchase).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}` +
            `${summary.failed ? `; FAILED ${JSON.stringify(summary.failures)}` : ''}${summary.busy ? `; 429s ${summary.busy}` : ''}` +
            `${callbacks ? `; callbacks ${callbacks.expected - callbacks.missing}/${callbacks.expected} (waited ${callbacks.waitedMs} ms after)` : ''}`,
        );
      }
      await s.quiesce();
      return r;
    };

    console.log(`[warm-up] one purchase per caller on each stack`);
    let baselineFailed = (await run('baseline', 1, -1)).summary.failed;
    let baselinePurchases = CALLERS;
    await run('product', 1, -1);
    const rounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of orderOf<Variant>(round, 'baseline', 'product')) {
        const r = await run(v, PER_CALLER, round);
        rounds.push(r);
        if (v === 'baseline') {
          baselineFailed += r.summary.failed;
          baselinePurchases += r.summary.items;
        }
      }
    }
    const sample = async (v: Variant) => (firstOk[v] ? eventTypesOf(s.client, firstOk[v]).catch((e: unknown) => ({ error: String(e) })) : { error: 'no purchase succeeded' });
    const eventTypes = { product: await sample('product'), baseline: await sample('baseline') };
    // What the connections' histories hold after every round: where their extra events per purchase come from.
    const tally = async (v: Variant) => {
      const e = await eventTypesOf(s.client, shops[v].connectionWorkflowId);
      return { bytes: e.bytes, wftToStartMs: e.workflowTaskMs.toStart, wftToCompleteMs: e.workflowTaskMs.toComplete, ...Object.fromEntries([...new Set(e.types)].map((t) => [t, e.types.filter((x) => x === t).length])) };
    };
    const connectionEventTypes = { product: await tally('product'), baseline: await tally('baseline') };
    const ratios = Array.from({ length: ROUNDS }, (_, round) => {
      const b = rounds.find((r) => r.variant === 'baseline' && r.round === round)!;
      const p = rounds.find((r) => r.variant === 'product' && r.round === round)!;
      return { round: round + 1, throughput: p.purchasesPerSecond / b.purchasesPerSecond, p50: p.latency.p50 / b.latency.p50, p99: p.latency.p99 / b.latency.p99, history: p.historyEvents / b.historyEvents };
    });
    const med = (k: 'throughput' | 'p50' | 'p99' | 'history') => round3(median(ratios.map((r) => r[k])));
    const of = (v: Variant, f: (r: Round) => number) => round2(median(rounds.filter((r) => r.variant === v).map(f)));
    const expectedMails = baselinePurchases - baselineFailed; // one sale mail to the source per purchase
    const mails = { baseline: infra.sink.count('plain') - 2, product: infra.sink.count('ccx') - 2, baselineExpected: expectedMails }; // minus invitation and accepted
    // Its own keys with --callbacks: the run with callbacks does not replace the purchase figure without them.
    const headline = CALLBACKS
      ? { purchaseCallbacksThroughputRatio: med('throughput'), purchaseCallbacksP99LatencyRatio: med('p99') }
      : { purchaseThroughputRatio: med('throughput'), purchaseP99LatencyRatio: med('p99') };
    const callbackReport = rx && {
      baseline: { ...rx.report('baseline', answeredAt.baseline), missing: missingCallbacks.baseline },
      product: { ...rx.report('product', answeredAt.product), missing: missingCallbacks.product },
    };
    const callbacksOk = !callbackReport || Object.values(callbackReport).every((c) => c.missing === 0 && c.badSignatures === 0);
    const baselineOk = baselineFailed === 0 && mails.baseline >= expectedMails;
    const checks = { baselineFailures: baselineFailed, mails, ...(callbackReport ? { callbacks: callbackReport } : {}), ok: baselineOk && callbacksOk };

    console.log(`\npurchases benchmark${CALLBACKS ? ' with callbacks' : ''}: ${ROUNDS} paired rounds, ${CALLERS} callers × ${PER_CALLER} purchases; medians over rounds`);
    console.log(`machine: ${env.cores} cores, ${env.memoryGb} GB, node ${env.node}, ${env.temporalDevServer}, commit ${env.commit.slice(0, 12)}${env.dirty ? ' (dirty)' : ''}`);
    const cpuOf = (v: Variant, part: string) => of(v, (r) => r.cpuMsPerPurchase[part] ?? NaN);
    printTable(['variant', 'purchases/s', 'p50 ms', 'p99 ms', 'purchase history', 'connection events/purchase', 'CPU ms/purchase: temporal', 'stack', 'postgres', 'not 2xx'],
      (['baseline', 'product'] as const).map((v) => [v, of(v, (r) => r.purchasesPerSecond), of(v, (r) => r.latency.p50), of(v, (r) => r.latency.p99), of(v, (r) => r.historyEvents), of(v, (r) => r.connectionEventsPerPurchase), cpuOf(v, 'temporal'), cpuOf(v, 'stack'), cpuOf(v, 'postgres'), rounds.filter((r) => r.variant === v).reduce((n, r) => n + r.summary.failed, 0)]));
    console.log('');
    printTable(['ratio product/baseline (median)', 'value'], [['purchases/s', med('throughput')], ['latency p50', med('p50')], ['latency p99', med('p99')], ['purchase history events', med('history')]]);
    for (const [v, e] of Object.entries(eventTypes)) {
      if ('types' in e) console.log(`${v} purchase history (${e.events} events, ${e.bytes} bytes, ${e.workflowTasks} workflow tasks, ${e.activities} activities, ${e.localActivityMarkers} markers): ${e.types.map((t, n) => `${t} ${e.eventBytes[n]}`).join(', ')}`);
    }
    for (const [v, t] of Object.entries(connectionEventTypes)) {
      console.log(`${v} connection history by event type: ${Object.entries(t).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    }
    const stepsOf = (v: Variant) => (steps[v][0] ?? []).map(({ step }, n) => ({ step, ms: round2(median(steps[v].map((r) => r[n]?.ms ?? NaN))) }));
    const stepTable = { baseline: stepsOf('baseline'), product: stepsOf('product') };
    if (stepTable.product.length === stepTable.baseline.length) {
      console.log('');
      printTable(['purchase history: ms from the event before to', 'baseline', 'product'], stepTable.product.map((p, n) => [p.step, stepTable.baseline[n]!.ms, p.ms]));
    }
    console.log(`sale mails at the sink: baseline ${mails.baseline} (expected ${expectedMails}), product ${mails.product}`);
    if (callbackReport) {
      console.log('');
      printTable(['callbacks at the receiver', 'delivered (ids)', 'orders', 'missing', 'duplicates', 'bad signatures', 'ms after the answer: p50', 'p99'],
        (['baseline', 'product'] as const).map((v) => { const c = callbackReport[v]; return [v, c.delivered, c.orders, c.missing, c.duplicates, c.badSignatures, c.latencyMs.p50, c.latencyMs.p99]; }));
    }
    const bench = CALLBACKS ? 'purchases-callbacks' : 'purchases';
    const file = writeResults(bench, headline, {
      benchmark: bench,
      ...(CALLBACKS ? { callbacks: true } : {}),
      settings: { rounds: ROUNDS, callers: CALLERS, purchasesPerCaller: PER_CALLER, tries: Number(process.env.BENCH_TRIES ?? 3) },
      environment: env,
      ratiosPerRound: ratios,
      historyEventTypes: eventTypes,
      connectionEventTypes,
      stepTimings: stepTable,
      checks,
      rounds: rounds.map((r) => ({ ...r, summary: { ...r.summary, seconds: round3(r.summary.seconds), perSecond: round3(r.summary.perSecond) } })),
    });
    console.log(`wrote ${file} and bench/results/latest.json`);
    if (!baselineOk) console.error(`BASELINE BROKEN: ${baselineFailed} failed purchases, ${mails.baseline} of ${expectedMails} mails — the ratio is not valid`);
    if (!callbacksOk) console.error(`CALLBACKS MISSING: ${JSON.stringify(callbackReport)} — the ratio is not valid`);
    return checks.ok ? 0 : 1;
  } finally {
    await session?.close();
    await receiver?.stop();
    await infra.stop();
  }
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  return 1;
});
