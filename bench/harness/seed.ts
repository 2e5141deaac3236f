/**
 * Who takes part: the product's clients are created through its own HTTP API as a user would (the
 * operator key → a company with the contract module on → clients with their keys); the baseline's
 * are rows of its own tables (it has no operator API). Every lifecycle gets a client pair of its
 * own: connections stay open after a block, so a pair is used once.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { CROSS_CLIENT_MODULE } from '../../domain/connection.ts';
import { ok, send } from './driver.ts';

export interface BenchClient {
  id: string;
  key: string;
}
export type Pair = [source: BenchClient, target: BenchClient];

const names = (n: number) => ({ name: `Bench Mandant ${n}`, language: n % 2 ? 'en' : 'de' });

async function expect(status: number, answer: Promise<Awaited<ReturnType<typeof send>>>, what: string) {
  const a = await answer;
  if (a.status !== status) throw new Error(`seeding: ${what} answered ${a.status} ${JSON.stringify(a.body)}`);
  return a.body;
}

/** `count` clients of one new contracting company (module on); `first` numbers their names on from an earlier call's. */
export async function seedProductClients(base: string, operatorKey: string, count: number, first = 0): Promise<BenchClient[]> {
  const company = await expect(201, send(base, 'POST', '/v1/contracting-companies', operatorKey, { name: 'Bench Verlagsgruppe' }), 'company');
  await expect(204, send(base, 'PUT', `/v1/contracting-companies/${company.id}/modules/${CROSS_CLIENT_MODULE}`, operatorKey), 'module');
  const clients: BenchClient[] = [];
  for (let n = 0; n < count; n += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, count - n) }, async (_, i) => {
        const { name, language } = names(first + n + i);
        const body = await expect(201, send(base, 'POST', '/v1/clients', operatorKey, { contractingCompanyId: company.id, name, email: `client${first + n + i}@bench-sink.net`, language }), 'client');
        return { id: body.client.id as string, key: body.apiKey as string };
      }),
    );
    clients.push(...batch);
  }
  return clients;
}

const clientId = () => Array.from(randomBytes(20), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 36]).join('');

export async function seedPlainClients(dbUrl: string, count: number): Promise<BenchClient[]> {
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  try {
    const clients = Array.from({ length: count }, () => ({ id: clientId(), key: `plain_${randomBytes(24).toString('hex')}` }));
    for (const [n, c] of clients.entries()) {
      const { name, language } = names(n);
      await db.query(`insert into plain.clients values ($1, $2, $3, $4, true)`, [c.id, name, `client${n}@bench-sink.net`, language]);
      await db.query(`insert into plain.api_keys values ($1, $2)`, [createHash('sha256').update(c.key).digest('hex'), c.id]);
    }
    return clients;
  } finally {
    await db.end();
  }
}

/** Distinct unordered pairs, spread so that consecutive pairs rarely share a client. */
export function pairsOf(clients: BenchClient[]): Pair[] {
  const pairs: Pair[] = [];
  for (let d = 1; d < clients.length; d++) for (let i = 0; i + d < clients.length; i++) pairs.push([clients[i]!, clients[i + d]!]);
  return pairs;
}

/** Clients needed for `pairs` distinct pairs. */
export const clientsFor = (pairs: number) => Math.ceil((1 + Math.sqrt(1 + 8 * pairs)) / 2) + 1;

export { ok };
