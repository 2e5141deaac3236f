/**
 * A recording proxy between the fuzzer and the stack. It passes requests through one at a time
 * and, around each, fingerprints the tables the API writes while it answers; a refused request
 * (4xx) after which the fingerprint differs changed state it must not have. It also counts
 * requests per key and status, which the fuzz note quotes.
 *
 * Tables written after an answer, by workflows on their own (availability fan-outs: carts,
 * cart_sources, pair_availability; mails: mail_log; callback deliveries and their attempts, which
 * the workers' dispatchers update) and the idempotency record (it keeps refusals
 * on purpose) are left out: they change without a request and would blame an innocent one.
 */
import http from 'node:http';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

export const FINGERPRINTED_TABLES = [
  'contracting_companies',
  'contract_modules',
  'clients',
  'api_keys',
  'rule_sets',
  'offers',
  'offer_targets',
  'connections',
  'connection_history',
  'orders',
  'payout_rows',
  'order_movements',
  'audit_log',
  'connection_callbacks',
  'order_claims',
] as const;

export interface RefusedChange {
  key: string;
  method: string;
  url: string;
  status: number;
  tables: string[];
}

export interface ProxyStats {
  /** key label → status → count */
  requests: Map<string, Map<number, number>>;
  refusedChanges: RefusedChange[];
}

async function fingerprint(db: Kysely<Database>): Promise<Map<string, string>> {
  const parts = FINGERPRINTED_TABLES.map((t) => sql`select ${t} as t, count(*)::text || ':' || coalesce(sum(hashtextextended(x::text, 0)), 0)::text as f from ${sql.table(t)} x`);
  const { rows } = await sql<{ t: string; f: string }>`${sql.join(parts, sql` union all `)}`.execute(db);
  return new Map(rows.map((r) => [r.t, r.f]));
}

/** Starts the proxy on a free port in front of `target` (http://127.0.0.1:<port>). `label` names the key of a request. */
export async function startProxy(target: URL, db: Kysely<Database>, label: (authorization: string | undefined) => string) {
  const stats: ProxyStats = { requests: new Map(), refusedChanges: [] };
  let turn = Promise.resolve();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // One request at a time: the fingerprints around it are its own.
      turn = turn.then(async () => {
        const key = label(req.headers.authorization);
        try {
          const before = await fingerprint(db);
          const answer = await forward(target, req, Buffer.concat(chunks));
          const after = await fingerprint(db);
          const byStatus = stats.requests.get(key) ?? new Map<number, number>();
          byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
          stats.requests.set(key, byStatus);
          if (answer.status >= 400 && answer.status < 500) {
            const tables = FINGERPRINTED_TABLES.filter((t) => before.get(t) !== after.get(t));
            if (tables.length > 0) stats.refusedChanges.push({ key, method: req.method ?? '', url: req.url ?? '', status: answer.status, tables });
          }
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
        } catch (err) {
          res.writeHead(599, { 'content-type': 'text/plain' });
          res.end(`fuzz proxy: ${String(err)}`);
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: new URL(`http://127.0.0.1:${port}`),
    stats,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function forward(target: URL, req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const out = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const headers = { ...answer.headers };
          delete headers['transfer-encoding']; // re-sent whole, with its length
          delete headers.connection;
          const buffer = Buffer.concat(chunks);
          resolve({ status: answer.statusCode ?? 502, headers: { ...headers, 'content-length': buffer.length }, body: buffer });
        });
        answer.on('error', reject);
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}
