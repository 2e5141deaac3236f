/**
 * The payout list end to end over HTTP (issue 8): pages across both sides of a row, filters and
 * cursors, tenant isolation, paid status (final, race-free), the settlement statement, marking a
 * pair paid, the CSV export (escaping, quoting) and `ccx payouts export` writing the same CSV.
 * Orders and payout rows are inserted directly: the purchase paths are not under test here.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PaidStatus } from '../../domain/payout.ts';
import { startTestStack, type HttpParty as Party, type TestStack } from '../support/stack.ts';
import { payoutFixtures } from './payouts.support.ts';
import { call } from './support.ts';

let stack: TestStack;
beforeAll(async () => void (stack = await startTestStack()));
afterAll(() => stack?.stop());

const as = (p: { apiKey: string }, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) => call(stack.app, p.apiKey, method, url, body);
const qs = (params: Record<string, string | number | undefined>) => {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined);
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
};
const errorOf = (res: { statusCode: number; json(): { error: { code: string } } }) => ({ status: res.statusCode, code: res.json().error.code });

const { parties, row, at } = payoutFixtures(() => stack);

interface ListedRow {
  id: string;
  sourceClientId: string;
  connectedClientId: string;
  paidStatus: PaidStatus;
  changedBy: string | null;
  changedAt: string;
  createdAt: string;
}
async function listAll(p: Party, filters: Record<string, string | number | undefined> = {}, limit = 2): Promise<ListedRow[]> {
  const all: ListedRow[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const res = await as(p, 'GET', `/v1/payouts${qs({ ...filters, limit, cursor })}`);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as { items: ListedRow[]; nextCursor: string | null };
    expect(page.items.length).toBeLessThanOrEqual(limit);
    all.push(...page.items);
    if (!page.nextCursor) return all;
    cursor = page.nextCursor;
  }
  throw new Error('too many pages');
}

describe('the list', () => {
  test('both parties see a row, newest first, across both sides; a stranger sees nothing', async () => {
    const [a, b, c] = await parties();
    const r1 = await row(a!, b!, { createdAt: at(1) }); // A source, B seller
    const r2 = await row(b!, a!, { createdAt: at(2) }); // B source, A seller
    const r3 = await row(a!, c!, { createdAt: at(3) }); // A source, C seller
    const first = await as(a!, 'GET', '/v1/payouts');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ nextCursor: null });
    expect(first.json().items.map((r: ListedRow) => r.id)).toEqual([r3, r2, r1]);
    expect(first.json().items[2]).toMatchObject({ id: r1, type: 'PAYMENT', paidStatus: 'OPEN', sourceClientId: a!.id, connectedClientId: b!.id, amountMinor: 1000, shareMinor: 200, currency: 'EUR', changedBy: null });
    expect((await listAll(b!)).map((r) => r.id)).toEqual([r2, r1]);
    expect((await listAll(c!)).map((r) => r.id)).toEqual([r3]);
    const [, , , d] = await parties(4);
    expect((await as(d!, 'GET', '/v1/payouts')).json()).toEqual({ items: [], nextCursor: null });
  });

  test('filters: type, paid status, the other party and the time window [from, to)', async () => {
    const [a, b, c] = await parties();
    const p1 = await row(a!, b!, { createdAt: at(1) });
    const refund = await row(a!, b!, { createdAt: at(2), type: 'REFUND' });
    const paid = await row(b!, a!, { createdAt: at(3), paidStatus: 'PAID' });
    const other = await row(a!, c!, { createdAt: at(4) });
    const ids = async (f: Record<string, string>) => (await listAll(a!, f, 50)).map((r) => r.id);
    expect(await ids({ type: 'REFUND' })).toEqual([refund]);
    expect(await ids({ paidStatus: 'PAID' })).toEqual([paid]);
    expect(await ids({ paidStatus: 'OPEN' })).toEqual([other, refund, p1]);
    // connectedClientId is the other party: B as the seller of A's rows and as the source of the row A sold.
    expect(await ids({ connectedClientId: b!.id })).toEqual([paid, refund, p1]);
    expect(await ids({ connectedClientId: c!.id })).toEqual([other]);
    expect(await ids({ connectedClientId: a!.id })).toEqual([]);
    expect(await ids({ from: at(2), to: at(4) })).toEqual([paid, refund]);
    expect(await ids({ from: at(2), to: at(4), connectedClientId: b!.id, paidStatus: 'OPEN' })).toEqual([refund]);
    // B's view of the same filter: A as the other party.
    expect((await listAll(b!, { connectedClientId: a!.id }, 50)).map((r) => r.id)).toEqual([paid, refund, p1]);
  });

  test('cursor paging walks every row once, also rows in the same millisecond', async () => {
    const [a, b, c] = await parties();
    const expected: string[] = [];
    for (let i = 0; i < 9; i++) {
      // Three rows per millisecond, microseconds apart, on alternating sides.
      const createdAt = `2026-06-01T00:00:00.${String(Math.floor(i / 3)).padStart(3, '0')}${String((i % 3) * 100 + 1).padStart(3, '0')}Z`;
      expected.push(i % 2 ? await row(b!, a!, { createdAt }) : await row(a!, i % 4 ? b! : c!, { createdAt }));
    }
    // Ties in created_at too: same instant, ordered by id desc.
    const tie = '2026-06-01T00:00:01.000000Z';
    const tied = [await row(a!, b!, { createdAt: tie }), await row(b!, a!, { createdAt: tie })].sort().reverse();
    const all = await listAll(a!, {}, 2);
    expect(all.map((r) => r.id)).toEqual([...tied, ...expected.reverse()]);
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
    for (const limit of [1, 3, 4, 100]) expect((await listAll(a!, {}, limit)).map((r) => r.id)).toEqual(all.map((r) => r.id));
  });

  test('validation: limit 1–100, ISO timestamps, strict query, a bad cursor is 400; an operator key is 403', async () => {
    const [a] = await parties(1);
    for (const q of ['?limit=0', '?limit=101', '?from=yesterday', '?paidStatus=DONE', '?type=payment', '?sort=asc', '?cursor=nonsense']) {
      expect(errorOf(await as(a!, 'GET', `/v1/payouts${q}`)), q).toEqual({ status: 400, code: 'INVALID_REQUEST' });
    }
    expect(errorOf(await as({ apiKey: stack.operatorKey }, 'GET', '/v1/payouts'))).toEqual({ status: 403, code: 'FORBIDDEN_ACTOR' });
    expect(errorOf(await as({ apiKey: stack.operatorKey }, 'GET', '/v1/payouts/summary'))).toEqual({ status: 403, code: 'FORBIDDEN_ACTOR' });
    expect((await call(stack.app, undefined, 'GET', '/v1/payouts.csv')).statusCode).toBe(401);
  });
});

describe('paid status', () => {
  const put = (p: Party, id: string, paidStatus: string) => as(p, 'PUT', `/v1/payouts/${id}/paid-status`, { paidStatus });

  test('OPEN → PAID records who and when; PAID → PAID is unchanged; PAID → OPEN is 409; OPEN → OPEN is unchanged', async () => {
    const [a, b] = await parties(2);
    const id = await row(a!, b!, { createdAt: at(1) });
    const open = await put(b!, id, 'OPEN');
    expect(open.statusCode).toBe(200);
    expect(open.json()).toMatchObject({ id, paidStatus: 'OPEN', changedBy: null });
    const paid = await put(b!, id, 'PAID');
    expect(paid.statusCode).toBe(200);
    expect(paid.json()).toMatchObject({ id, paidStatus: 'PAID', changedBy: b!.id });
    expect(Date.parse(paid.json().changedAt)).toBeGreaterThan(Date.parse(at(1)));
    const again = await put(a!, id, 'PAID');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(paid.json());
    expect(errorOf(await put(a!, id, 'OPEN'))).toEqual({ status: 409, code: 'PAYOUT_ALREADY_PAID' });
    expect((await listAll(a!))[0]).toMatchObject({ paidStatus: 'PAID', changedBy: b!.id });
  });

  test('a stranger and unknown ids get 404; the row stays untouched', async () => {
    const [a, b, c] = await parties();
    const id = await row(a!, b!);
    for (const status of ['PAID', 'OPEN']) expect(errorOf(await put(c!, id, status))).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(errorOf(await put(a!, randomUUID(), 'PAID'))).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(errorOf(await put(a!, 'not-a-uuid', 'PAID'))).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(errorOf(await put(a!, id, 'DONE'))).toEqual({ status: 400, code: 'INVALID_REQUEST' });
    expect((await listAll(a!))[0]).toMatchObject({ paidStatus: 'OPEN', changedBy: null });
  });

  test('concurrent PUTs by both parties: one marks it, none flips it back', async () => {
    const [a, b] = await parties(2);
    for (let round = 0; round < 5; round++) {
      const id = await row(a!, b!);
      const calls = Array.from({ length: 12 }, (_, i) => put(i % 2 ? a! : b!, id, i % 3 === 2 ? 'OPEN' : 'PAID'));
      const answers = await Promise.all(calls);
      const paid = answers.filter((r) => r.statusCode === 200 && r.json().paidStatus === 'PAID').map((r) => r.json());
      expect(paid.length).toBe(8); // every PAID request answers the paid row
      expect(new Set(paid.map((r) => `${r.changedBy} ${r.changedAt}`)).size).toBe(1); // marked exactly once
      for (const r of answers) expect([200, 409]).toContain(r.statusCode);
      const final = (await listAll(a!)).find((r) => r.id === id)!;
      expect(final).toMatchObject({ paidStatus: 'PAID', changedBy: paid[0].changedBy, changedAt: paid[0].changedAt });
    }
  });
});

describe('summary', () => {
  test('sums per pair, currency, type and paid status; filters; a stranger sees nothing', async () => {
    const [a, b, c] = await parties();
    await row(a!, b!, { createdAt: at(1), amountMinor: 1000, shareMinor: 200 });
    await row(a!, b!, { createdAt: at(2), amountMinor: 2500, shareMinor: 500 });
    await row(a!, b!, { createdAt: at(3), amountMinor: 700, shareMinor: 140, type: 'REFUND' });
    await row(a!, b!, { createdAt: at(4), amountMinor: 900, shareMinor: 180, paidStatus: 'PAID' });
    await row(a!, b!, { createdAt: at(5), amountMinor: 3000, shareMinor: 600, currency: 'CHF' });
    await row(b!, a!, { createdAt: at(6), amountMinor: 400, shareMinor: 80 });
    await row(a!, c!, { createdAt: at(7), amountMinor: 50, shareMinor: 10 });
    const line = (source: Party, seller: Party, currency: string, type: string, paidStatus: string, count: number, amountMinor: number, shareMinor: number) =>
      ({ sourceClientId: source.id, connectedClientId: seller.id, currency, type, paidStatus, count, amountMinor, shareMinor });
    const sorted = (items: ReturnType<typeof line>[]) =>
      [...items].sort((x, y) => `${x.sourceClientId}${x.connectedClientId}${x.currency}${x.type}${x.paidStatus}`.localeCompare(`${y.sourceClientId}${y.connectedClientId}${y.currency}${y.type}${y.paidStatus}`));
    const summary = async (p: Party, f: Record<string, string> = {}) => {
      const res = await as(p, 'GET', `/v1/payouts/summary${qs(f)}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items as ReturnType<typeof line>[];
    };
    const ab = [
      line(a!, b!, 'CHF', 'PAYMENT', 'OPEN', 1, 3000, 600),
      line(a!, b!, 'EUR', 'PAYMENT', 'OPEN', 2, 3500, 700),
      line(a!, b!, 'EUR', 'PAYMENT', 'PAID', 1, 900, 180),
      line(a!, b!, 'EUR', 'REFUND', 'OPEN', 1, 700, 140),
    ];
    const ba = [line(b!, a!, 'EUR', 'PAYMENT', 'OPEN', 1, 400, 80)];
    const ac = [line(a!, c!, 'EUR', 'PAYMENT', 'OPEN', 1, 50, 10)];
    expect(await summary(a!)).toEqual(sorted([...ab, ...ba, ...ac]));
    expect(await summary(b!)).toEqual(sorted([...ab, ...ba]));
    expect(await summary(a!, { connectedClientId: b!.id })).toEqual(sorted([...ab, ...ba]));
    expect(await summary(a!, { currency: 'CHF' })).toEqual([ab[0]]);
    expect(await summary(a!, { from: at(2), to: at(4), connectedClientId: b!.id })).toEqual(sorted([line(a!, b!, 'EUR', 'PAYMENT', 'OPEN', 1, 2500, 500), ab[3]!]));
    const [, , , d] = await parties(4);
    expect(await summary(d!)).toEqual([]);
    expect(await summary(c!, { connectedClientId: b!.id })).toEqual([]);
    expect(errorOf(await as(a!, 'GET', '/v1/payouts/summary?currency=eur'))).toEqual({ status: 400, code: 'INVALID_REQUEST' });
  });
});

describe('mark-paid', () => {
  test('marks exactly the OPEN rows of the pair created before the cut-off, in one go', async () => {
    const [a, b, c] = await parties();
    const due = [await row(a!, b!, { createdAt: at(1) }), await row(b!, a!, { createdAt: at(2) }), await row(a!, b!, { createdAt: at(3), type: 'REFUND' })];
    const alreadyPaid = await row(a!, b!, { createdAt: at(2), paidStatus: 'PAID' });
    const atCutoff = await row(a!, b!, { createdAt: at(4) });
    const otherPair = await row(a!, c!, { createdAt: at(1) });
    const otherCurrency = await row(a!, b!, { createdAt: at(1), currency: 'CHF' });
    const strangers = await row(b!, c!, { createdAt: at(1) });
    const before = await listAll(a!, {}, 100);

    expect(errorOf(await as(a!, 'POST', '/v1/payouts/mark-paid', { until: 'soon' }))).toEqual({ status: 400, code: 'INVALID_REQUEST' });
    const res = await as(a!, 'POST', '/v1/payouts/mark-paid', { until: at(4), connectedClientId: b!.id, currency: 'EUR' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ marked: 3 });

    const after = new Map((await listAll(a!, {}, 100)).map((r) => [r.id, r]));
    for (const id of due) expect(after.get(id)).toMatchObject({ paidStatus: 'PAID', changedBy: a!.id });
    for (const id of [alreadyPaid, atCutoff, otherPair, otherCurrency]) expect(after.get(id)).toEqual(before.find((r) => r.id === id));
    expect((await listAll(c!, {}, 100)).find((r) => r.id === strangers)).toMatchObject({ paidStatus: 'OPEN' });

    // Again: nothing left to mark. A stranger marks nothing of theirs.
    expect((await as(a!, 'POST', '/v1/payouts/mark-paid', { until: at(4), connectedClientId: b!.id, currency: 'EUR' })).json()).toEqual({ marked: 0 });
    const [, , , d] = await parties(4);
    expect((await as(d!, 'POST', '/v1/payouts/mark-paid', { until: at(60) })).json()).toEqual({ marked: 0 });
    expect((await listAll(a!, { paidStatus: 'OPEN' }, 100)).map((r) => r.id).sort()).toEqual([atCutoff, otherPair, otherCurrency].sort());
  });

  test('both parties marking at once: every row marked once, no deadlock', async () => {
    const [a, b] = await parties(2);
    for (let i = 0; i < 40; i++) await (i % 2 ? row(a!, b!, { createdAt: at(i) }) : row(b!, a!, { createdAt: at(i) }));
    const answers = await Promise.all([a!, b!, a!, b!].map((p) => as(p, 'POST', '/v1/payouts/mark-paid', { until: at(100) })));
    for (const r of answers) expect(r.statusCode, r.body).toBe(200);
    expect(answers.reduce((n, r) => n + (r.json().marked as number), 0)).toBe(40);
    expect(await listAll(a!, { paidStatus: 'OPEN' }, 100)).toEqual([]);
  });
});

describe('CSV export', () => {
  const csvOf = async (p: Party, f: Record<string, string> = {}) => {
    const res = await as(p, 'GET', `/v1/payouts.csv${qs(f)}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    return res.body;
  };

  test('header, newest first, formula injection defused, RFC 4180 quoting; a stranger gets the header only', async () => {
    const [a, b, c] = await parties();
    const ids = [
      await row(a!, b!, { createdAt: at(1), costCenter: '=HYPERLINK("http://evil.example","klick")' }),
      await row(a!, b!, { createdAt: at(2), costCenter: '-1+2' }),
      await row(a!, b!, { createdAt: at(3), costCenter: 'Vertrieb, Nord "Süd"\nZeile 2' }),
      await row(b!, a!, { createdAt: at(4), costCenter: '@SUM(A1)' }),
      await row(a!, b!, { createdAt: at(5), costCenter: '\tTab' }),
      await row(a!, b!, { createdAt: at(6), costCenter: '+49' }),
      await row(a!, b!, { createdAt: at(7), costCenter: 'KST 1' }),
    ];
    const csv = await csvOf(a!);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(
      'id,type,paidStatus,sourceClientId,connectedClientId,connectionId,orderId,subscriptionId,invoiceId,offerId,costCenter,paymentMethod,amountMinor,currency,shareBasisPoints,shareMinor,ruleSetVersion,createdAt,changedAt,changedBy',
    );
    expect(csv.endsWith('\r\n')).toBe(true);
    const body = csv.slice(lines[0]!.length + 2);
    const byId = (id: string) => body.split(/\r\n(?=[0-9a-f]{8}-)/).find((l) => l.startsWith(id))!;
    expect(byId(ids[0]!)).toContain(`,"'=HYPERLINK(""http://evil.example"",""klick"")",PAYPAL,1000,EUR,2000,200,test,`);
    expect(byId(ids[1]!)).toContain(`,'-1+2,PAYPAL,`);
    expect(byId(ids[2]!)).toContain(`,"Vertrieb, Nord ""Süd""\nZeile 2",PAYPAL,`);
    expect(byId(ids[3]!)).toContain(`,'@SUM(A1),PAYPAL,`);
    expect(byId(ids[4]!)).toContain(`,'\tTab,PAYPAL,`);
    expect(byId(ids[5]!)).toContain(`,'+49,PAYPAL,`);
    expect(byId(ids[6]!)).toContain(`,KST 1,PAYPAL,`);
    // Newest first, one line per row (the quoted newline stays inside its cell).
    expect(body.split(/\r\n(?=[0-9a-f]{8}-)/).map((l) => l.slice(0, 36))).toEqual([...ids].reverse());
    expect(byId(ids[0]!)).toMatch(new RegExp(`^${ids[0]},PAYMENT,OPEN,${a!.id},${b!.id},[0-9a-f-]{36},ord-[0-9a-f-]{36},,,`));

    expect(await csvOf(c!)).toBe(`${lines[0]}\r\n`);
    expect(await csvOf(a!, { connectedClientId: b!.id, from: at(4), to: at(5) })).toBe(`${lines[0]}\r\n${byId(ids[3]!)}\r\n`);
  });

  test('pages are stitched without gaps or repeats', async () => {
    const [a, b] = await parties(2);
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(await (i % 3 ? row(a!, b!, { createdAt: at(i) }) : row(b!, a!, { createdAt: at(i) })));
    const { payoutCsv } = await import('../../api/payout.service.ts');
    let small = '';
    for await (const chunk of payoutCsv(stack.engine.database.db, a!.id, {}, 4)) small += chunk;
    expect(small).toBe(await csvOf(a!));
    expect(small.trimEnd().split('\r\n').slice(1).map((l) => l.slice(0, 36))).toEqual([...ids].reverse());
  });
});
