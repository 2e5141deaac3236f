/**
 * `ccx demo` / `npm run demo`: walks a running stack through the whole product with the typed
 * client (api/client), the way another system would — a company with the module, two clients, an
 * invitation and its acceptance, a cross-client offer, a cart, a purchase, a refund, a renewal —
 * and prints the payout list and the settlement statement as tables, then links to what it made:
 * /machines and the Temporal UI, filtered by workflow id and search attributes.
 */
import { ccxClient, type CcxClient } from '../api/client/index.ts';

export interface DemoOptions {
  baseUrl: string;
  operatorKey: string;
  /** The Temporal UI's base URL (the dev server's: its port + 1000), for the links at the end; none: no links. */
  temporalUi: string | undefined;
  namespace: string;
  log?: (line: string) => void;
}

type Answer<T> = Promise<{ data?: T; error?: unknown; response: Response }>;

export async function runDemo(options: DemoOptions): Promise<void> {
  const log = options.log ?? console.log;
  const api = (key: string): CcxClient => ccxClient({ baseUrl: options.baseUrl, apiKey: key });
  let step = 0;
  const TOTAL = 13;
  async function run<T>(what: string, call: Answer<T>, expected: number, detail: (data: T) => string = () => ''): Promise<T> {
    step++;
    const { data, error, response } = await call;
    if (response.status !== expected) {
      throw new Error(`[${step}/${TOTAL}] ${what}: expected ${expected}, got ${response.status} ${JSON.stringify(error ?? data)}`);
    }
    log(`[${String(step).padStart(2)}/${TOTAL}] ${what} → ${response.status}${data === undefined ? '' : ` ${detail(data as T)}`}`);
    return data as T;
  }

  const operator = api(options.operatorKey);
  const company = await run('operator creates the company Nordverlag', operator.POST('/v1/contracting-companies', { body: { name: 'Nordverlag' } }), 201, (c) => c.id);
  await run(
    'operator switches CROSS_CLIENT_CONNECTIONS on',
    operator.PUT('/v1/contracting-companies/{id}/modules/{module}', { params: { path: { id: company.id, module: 'CROSS_CLIENT_CONNECTIONS' } } }),
    204,
  );
  const client = async (name: string, language: 'de' | 'en') => {
    const email = `${name.toLowerCase()}.${company.id.toLowerCase()}@example.test`;
    const created = await run(`operator creates the client ${name}`, operator.POST('/v1/clients', { body: { contractingCompanyId: company.id, name, email, language } }), 201, (c) => c.client.id);
    return { id: created.client.id, name, api: api(created.apiKey!) };
  };
  const source = await client('Morgenpost', 'de');
  const seller = await client('Abendblatt', 'en');

  const invited = await run(
    `${source.name} invites ${seller.name}`,
    source.api.POST('/v1/connections', { body: { targetClientId: seller.id, offerAccess: true } }),
    201,
    (c) => `${c.status} (connection ${c.id})`,
  );
  await run(`${seller.name} accepts`, seller.api.POST('/v1/connections/{id}/accept', { params: { path: { id: invited.id } } }), 200, (c) => c.status);
  const offer = (owner: typeof source, title: string, priceMinor: number, sharedWith: string[]) =>
    owner.api.POST('/v1/offers', {
      body: {
        title,
        priceMinor,
        currency: 'EUR',
        crossClient: sharedWith.length > 0,
        ...(sharedWith.length > 0 ? { connectedClientIds: sharedWith } : {}),
        products: [{ name: title, costCenter: 'KST-100' }],
      },
    });
  const shared = await run(`${source.name} shares the offer "Digitalabo Morgenpost" with ${seller.name}`, offer(source, 'Digitalabo Morgenpost', 999, [seller.id]), 201, (o) => o.id);
  const own = await run(`${seller.name} creates its own offer "Abendblatt plus"`, offer(seller, 'Abendblatt plus', 1499, []), 201, (o) => o.id);
  const cart = await run(
    `${seller.name} puts both into the cart "Kombiabo"`,
    seller.api.POST('/v1/carts', {
      body: {
        title: 'Kombiabo',
        items: [
          { offerId: own.id, mandatory: true },
          { offerId: shared.id, mandatory: false },
        ],
      },
    }),
    201,
    (c) => `${c.status} (cart ${c.id})`,
  );
  await run('… and activates it', seller.api.POST('/v1/carts/{id}/activate', { params: { path: { id: cart.id } } }), 200, (c) => c.status);
  const orderId = `demo-${Date.now()}`;
  const order = await run(
    `the checkout reports the purchase ${orderId}`,
    seller.api.POST('/v1/carts/{id}/purchases', {
      params: { path: { id: cart.id } },
      body: {
        orderId,
        customerId: 'kunde-4711',
        paymentMethod: 'PAYPAL',
        currency: 'EUR',
        subscriptionId: 'abo-4711',
        items: [
          { offerId: own.id, amountMinor: 1499 },
          { offerId: shared.id, amountMinor: 999 },
        ],
      },
    }),
    201,
    (o) => `${o.payouts.length} payout row(s)`,
  );
  const orderPath = { params: { path: { orderId } } };
  await run('… a partial refund of the shared item', seller.api.POST('/v1/orders/{orderId}/refunds', { ...orderPath, body: { refundId: `${orderId}-r1`, items: [{ offerId: shared.id, amountMinor: 300 }] } }), 201, (m) => `${m.rows.length} REFUND row(s)`);
  await run('… and the next month\'s renewal', seller.api.POST('/v1/orders/{orderId}/payments', { ...orderPath, body: { paymentId: `${orderId}-p2`, items: [{ offerId: shared.id, amountMinor: 999 }] } }), 201, (m) => `${m.rows.length} PAYMENT row(s)`);

  /** A read the tables need: a clear error, not a TypeError, when the stack answers otherwise. */
  async function read<T>(what: string, call: Answer<T>): Promise<T> {
    const { data, error, response } = await call;
    if (response.status !== 200 || data === undefined) throw new Error(`${what}: expected 200, got ${response.status} ${JSON.stringify(error ?? data)}`);
    return data;
  }
  const names = new Map([[source.id, source.name], [seller.id, seller.name]]);
  const named = (id: string) => names.get(id) ?? id;
  const payouts = (await read('GET /v1/payouts', source.api.GET('/v1/payouts'))).items;
  log(`\nPayout list of ${source.name} (GET /v1/payouts)`);
  log(table(payouts.map((r) => ({ type: r.type, status: r.paidStatus, order: r.orderId, amount: money(r.amountMinor, r.currency), share: `${r.shareBasisPoints / 100} %`, 'share amount': money(r.shareMinor, r.currency) }))));
  const summary = (await read('GET /v1/payouts/summary', source.api.GET('/v1/payouts/summary'))).items;
  log(`\nSettlement statement (GET /v1/payouts/summary)`);
  log(table(summary.map((l) => ({ source: named(l.sourceClientId), seller: named(l.connectedClientId), type: l.type, status: l.paidStatus, rows: String(l.count), amount: money(l.amountMinor, l.currency), share: money(l.shareMinor, l.currency) }))));

  const connectionId = `connection:${source.id}:${seller.id}`;
  log('\nWhat the demo created (the live views ask for a key: your operator key, or a party\'s)');
  const links: Array<[string, string]> = [
    ['machines page', `${options.baseUrl}/machines`],
    ['the connection, live', `${options.baseUrl}/machines?id=${invited.id}`],
    ['the cart, live', `${options.baseUrl}/machines?id=${cart.id}`],
  ];
  const { temporalUi } = options;
  if (temporalUi) {
    const ui = (query: string) => `${temporalUi}/namespaces/${encodeURIComponent(options.namespace)}/workflows?query=${encodeURIComponent(query)}`;
    links.push(
      ['the connection in the Temporal UI', ui(`WorkflowId = '${connectionId}'`)],
      [`${seller.name}'s carts and purchases`, ui(`ClientId = '${seller.id}'`)],
      ['the purchase', ui(`OrderId = '${order.orderId}'`)],
      ['all the demo\'s runs', ui(`SourceClientId = '${source.id}' OR ClientId = '${seller.id}'`)],
    );
  } else {
    links.push(['Temporal UI', 'set CCX_TEMPORAL_UI_URL to get links to the runs']);
  }
  const width = Math.max(...links.map(([label]) => label.length));
  for (const [label, url] of links) log(`  ${label.padEnd(width)}  ${url}`);
}

const money = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency}`;

/** A plain text table: a header, a rule, one line per row. */
function table(rows: Record<string, string>[]): string {
  if (rows.length === 0) return '  (none)';
  const columns = Object.keys(rows[0]!);
  const width = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((cell, i) => cell.padEnd(width[i]!)).join('  ')}`.trimEnd();
  return [line(columns), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))].join('\n');
}
