/**
 * Scale check of the impact preview (issue 15, "Done when" 3): seeds a fresh database next to
 * DATABASE_URL directly with SQL — N open connections (default 100,000; invited, active and blocked,
 * a quarter across contracting companies with a callback), 5,000 open carts and 10,000 recent
 * PAYMENT rows — then runs `previewRuleSet` with a stricter draft and other payout shares in a
 * child process of its own and prints that process's wall time and peak RSS (`maxRSS`), so the
 * figures are the preview's alone, and exits 1 when the answer is partial or beyond 60 s or
 * 512 MiB (issue 15). No Temporal: the preview asks no workflow.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/preview-scale.ts [100000]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { previewRuleSet } from '../api/rule-set-preview.service.ts';
import { DEFAULT_RULES_FILE, publishRuleSetSource } from '../api/rule-set.service.ts';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';

const defaults = readFileSync(DEFAULT_RULES_FILE, 'utf8');
/** Within the company only (invite and accept) and one item per cart; half of big sales, else a quarter. */
const draft = defaults
  .replace('name: default', 'name: stricter')
  .replace('guards:\n', 'guards:\n  connection.accept:\n    - { id: accept-within-company, require: "source.company.id == target.company.id", message: no }\n  cart.activate:\n    - { id: one-item, require: "size(cart.items) <= 1", message: no }\n')
  .replace('needs a callback {url, secret}\n', 'needs a callback {url, secret}\n    - { id: same-company-only, require: "source.company.id == target.company.id", message: no }\n')
  .replace(/\npayouts:[\s\S]*$/, '\npayouts:\n  - { id: big-half, when: "item.amountMinor >= 100000", shareBasisPoints: 5000 }\n  - { id: quarter, when: "true", shareBasisPoints: 2500 }\n');

if (process.argv[2] === '--measure') {
  // The child: only the preview runs here.
  const handle = openDatabase(process.argv[3]!);
  const started = Date.now();
  const result = await previewRuleSet(handle.db, draft, 'stricter.rules.yaml', { actor: { principal: 'cli:scale', keyId: null } });
  const seconds = (Date.now() - started) / 1000;
  await handle.close();
  const changed = (kind: 'connections' | 'carts') => result[kind].length;
  process.stdout.write(`${JSON.stringify({
    seconds, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), partial: result.partial, scanned: result.scanned,
    connectionChanges: changed('connections'), cartChanges: changed('carts'), payoutLines: result.payouts.length,
    currentShareMinor: result.payouts.reduce((s, p) => s + p.currentShareMinor, 0), draftShareMinor: result.payouts.reduce((s, p) => s + p.draftShareMinor, 0),
  })}\n`);
  process.exit(0);
}

const connections = Number(process.argv[2] ?? 100_000);
const base = process.env.DATABASE_URL;
if (!base) throw new Error('set DATABASE_URL to a PostgreSQL server (a fresh database is created next to it)');
const dbName = `ccx_preview_${Date.now()}`;
const admin = openDatabase(base);
await sql`create database ${sql.id(dbName)}`.execute(admin.db);
await admin.close();
const url = new URL(base);
url.pathname = `/${dbName}`;
const handle = openDatabase(url.toString());
try {
  await migrateToLatest(handle.db);
  const { ruleSet } = await publishRuleSetSource(handle.db, defaults, DEFAULT_RULES_FILE);
  const version = ruleSet.hash;
  const clients = Math.ceil(Math.sqrt(connections)) + 2; // enough ordered pairs
  const seedStarted = Date.now();
  const db = handle.db;
  await sql`insert into contracting_companies (id, name) select 'CO' || lpad(g::text, 18, '0'), 'Company ' || g from generate_series(1, 4) g`.execute(db);
  await sql`insert into contract_modules (contracting_company_id, module, active, changed_at) select id, 'CROSS_CLIENT_CONNECTIONS', true, now() from contracting_companies`.execute(db);
  await sql`insert into clients (id, contracting_company_id, name, email, language)
    select 'CL' || lpad(g::text, 18, '0'), 'CO' || lpad((1 + (g % 4))::text, 18, '0'), 'Client ' || g, 'c' || g || '@example.test', 'de'
    from generate_series(1, ${clients}) g`.execute(db);
  // Pairs within a company first, so that the stricter draft refuses only some: g % 4 equal = same company.
  await sql`insert into connections (id, workflow_id, source_client_id, target_client_id, status, offer_access, blocked_by, created_at, updated_at, version, rule_set_version, callback_url)
    select gen_random_uuid(), 'connection:' || s || ':' || t, s, t, (array['invited', 'active', 'blocked'])[1 + (n % 3)], n % 5 <> 0,
      case when n % 3 = 2 then t end, now(), now(), 1, ${version}, case when sc <> tc then 'https://hooks.example.test/ccx' end
    from (
      select s.id as s, t.id as t, s.contracting_company_id as sc, t.contracting_company_id as tc, row_number() over (order by s.id, t.id) as n
      from clients s join clients t on s.id <> t.id
    ) pairs where n <= ${connections}`.execute(db);
  // One cross-client offer per client; carts and sales of client k's offer by client k+1.
  await sql`insert into offers (id, owner_client_id, title, price_minor, currency, cross_client, products)
    select gen_random_uuid(), id, 'Abo of ' || id, 1999, 'EUR', true, '[{"name":"Abo","costCenter":"K"}]' from clients`.execute(db);
  await sql`create temporary table sellers as
    select o.id as offer_id, o.owner_client_id as source, (select min(id) from clients c where c.id > o.owner_client_id) as seller,
      (select c.id from connections c where c.source_client_id = o.owner_client_id limit 1) as connection_id
    from offers o`.execute(db);
  await sql`delete from sellers where seller is null or connection_id is null`.execute(db);
  await sql`insert into carts (id, client_id, workflow_id, title, status, currency, items, version, rule_set_version, created_at, updated_at)
    select gen_random_uuid(), s.seller, 'cart:' || s.seller || ':' || g, 'Kombi ' || g, (array['draft', 'active', 'suspended'])[1 + (g % 3)], 'EUR',
      jsonb_build_array(
        jsonb_build_object('offerId', s.offer_id, 'title', 'Abo', 'mandatory', true, 'defaultSelected', true, 'position', 0, 'external', true, 'sourceClientId', s.source, 'priceMinor', 1999, 'currency', 'EUR', 'available', true),
        jsonb_build_object('offerId', s.offer_id, 'title', 'Abo 2', 'mandatory', false, 'defaultSelected', false, 'position', 1, 'external', true, 'sourceClientId', s.source, 'priceMinor', 1999, 'currency', 'EUR', 'available', true)),
      1, ${version}, now(), now()
    from generate_series(1, 5000) g join lateral (select * from sellers offset (g % (select count(*) from sellers)) limit 1) s on true`.execute(db);
  await sql`create temporary table sales as
    select gen_random_uuid() as order_ref, 'ORDER-' || g as order_id, s.*, case when g % 2 = 0 then 1999 else 150000 end as amount
    from generate_series(1, 10000) g join lateral (select * from sellers offset (g % (select count(*) from sellers)) limit 1) s on true`.execute(db);
  await sql`insert into orders (id, seller_client_id, order_id, cart_id, customer_id, payment_method, currency, items, request_hash)
    select order_ref, seller, order_id, gen_random_uuid(), 'KUNDE', 'PAYPAL', 'EUR', jsonb_build_array(jsonb_build_object('offerId', offer_id, 'amountMinor', amount)), 'seed' from sales`.execute(db);
  await sql`insert into payout_rows (id, type, source_client_id, connected_client_id, connection_id, order_ref, order_id, movement_id, offer_id, cost_center, payment_method, amount_minor, currency, share_basis_points, share_minor, rule_set_version)
    select gen_random_uuid(), 'PAYMENT', source, seller, connection_id, order_ref, order_id, order_id, offer_id, 'K', 'PAYPAL', amount, 'EUR', 10000, amount, ${version} from sales`.execute(db);
  await sql`analyze`.execute(db);
  const count = async (table: 'connections' | 'carts' | 'payout_rows') => Number((await db.selectFrom(table).select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
  process.stdout.write(`seeded ${await count('connections')} connections, ${await count('carts')} carts, ${await count('payout_rows')} payout rows in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s\n`);

  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', url.toString()], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`the preview failed:\n${child.stderr}`);
  process.stdout.write(`preview: ${child.stdout}`);
  // Issue 15's bound for 100,000 connections: a complete answer within 60 s and 512 MiB.
  const measured = JSON.parse(child.stdout) as { seconds: number; maxRssMiB: number; partial: boolean };
  const missed = [
    measured.partial && 'the answer is partial',
    measured.seconds > 60 && `${measured.seconds} s > 60 s`,
    measured.maxRssMiB > 512 && `${measured.maxRssMiB} MiB > 512 MiB`,
  ].filter(Boolean);
  process.stdout.write(missed.length === 0 ? 'within bounds: complete, ≤ 60 s, ≤ 512 MiB\n' : `OUT OF BOUNDS: ${missed.join('; ')}\n`);
  process.exitCode = missed.length === 0 ? 0 : 1;
} finally {
  await handle.close();
  const cleanup = openDatabase(base);
  await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(cleanup.db);
  await cleanup.close();
}
