/**
 * Seeding for `npm run bench:payouts`: 1,000,000 payout rows in one generate_series INSERT, in time
 * order, skewed — the hot pair S0→T0 has 200k rows; S0 is also the source of 100 pairs and the
 * seller of 100 more (4,000 rows each), so S0 is a party of every row on both sides.
 */
import pg from 'pg';

export const ROWS = 1_000_000;
export const HOT_ROWS = 200_000;
export const S0 = 'BENCHSOURCE000000000';
export const T0 = 'BENCHSELLER000000000';
const COMPANY = 'BENCHCOMPANY00000001';

export async function seed(url: string): Promise<{ seedMs: number }> {
  const started = performance.now();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`set maintenance_work_mem = '512MB'`);
    await c.query(`insert into contracting_companies (id, name) values ($1, 'Bench')`, [COMPANY]);
    // S0, T0, T1..T100 (sellers of S0's offers), U1..U100 (sources whose offers S0 sells).
    await c.query(
      `insert into clients (id, contracting_company_id, name, email, language)
       select id, $1, id, lower(id) || '@bench.test', 'de'
       from (select unnest(array[$2::text, $3::text]) as id
             union all select 'BENCHT' || lpad(k::text, 14, '0') from generate_series(1, 100) k
             union all select 'BENCHU' || lpad(k::text, 14, '0') from generate_series(1, 100) k) ids`,
      [COMPANY, S0, T0],
    );
    // Pairs: 0 = S0→T0 (hot), 1..100 = S0→Tk, 101..200 = Uk→S0.
    await c.query(`create temporary table bench_pairs as
      select p, case when p <= 100 then '${S0}' else 'BENCHU' || lpad((p - 100)::text, 14, '0') end as source,
                case when p = 0 then '${T0}' when p <= 100 then 'BENCHT' || lpad(p::text, 14, '0') else '${S0}' end as seller
      from generate_series(0, 200) p`);
    await c.query(`insert into orders (id, seller_client_id, order_id, cart_id, customer_id, payment_method, currency, items, request_hash)
      select md5('order' || p)::uuid, seller, 'bench-order-' || p, md5('cart' || p)::uuid, 'kunde', 'PAYPAL', 'EUR', '[]', 'bench' from bench_pairs`);
    // Build the secondary indexes after the load (as a restore would): same definitions, faster.
    const { rows: indexes } = await c.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes where tablename = 'payout_rows'
         and indexname not in (select conname from pg_constraint where conrelid = 'payout_rows'::regclass)`,
    );
    for (const ix of indexes) await c.query(`drop index ${ix.indexname}`);
    await c.query(`insert into payout_rows (id, type, paid_status, source_client_id, connected_client_id, connection_id, order_ref, order_id,
        movement_id, offer_id, cost_center, payment_method, amount_minor, currency, share_basis_points, share_minor, rule_set_version,
        created_at, changed_at)
      select gen_random_uuid(),
        case when g % 100 < 90 then 'PAYMENT' when g % 100 < 97 then 'REFUND' else 'LOSS' end,
        case when (g * 7) % 10 < 6 then 'PAID' else 'OPEN' end,
        bp.source, bp.seller, md5('conn' || bp.p)::uuid, md5('order' || bp.p)::uuid, 'o' || g, 'm' || g, md5('offer' || bp.p)::uuid,
        'KST-' || (g % 50), 'PAYPAL', 500 + g % 5000, 'EUR', 2000, (500 + g % 5000) / 5, 'bench', s.at, s.at
      from (select g,
                   case when g <= ${HOT_ROWS} then 0 when g <= 600000 then 1 + (g - ${HOT_ROWS + 1}) % 100 else 101 + (g - 600001) % 100 end as p,
                   -- spread over the last 365 days (a multiplicative hash of g), microsecond precision
                   now() - ((g::int8 * 2654435761) % 31536000000000) * interval '1 microsecond' as at
            from generate_series(1, ${ROWS}) g) s
      join bench_pairs bp on bp.p = s.p
      order by s.at`); // append order = time order, as rows are written in production
    for (const ix of indexes) await c.query(ix.indexdef);
    await c.query('vacuum analyze payout_rows');
    await c.query('analyze orders');
  } finally {
    await c.end();
  }
  return { seedMs: performance.now() - started };
}
