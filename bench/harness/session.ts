/**
 * What both benchmarks share around the infrastructure: options (flags override env), the
 * driver's Temporal client and database, quiescing between runs, and the interleaved rounds.
 */
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import type { BenchInfra } from './infra.ts';
import { PRODUCT_TASK_QUEUE } from './infra.ts';

/** `--name=value` beats `BENCH_NAME`, which beats the default. */
export function option(name: string, fallback: number): number {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const env = process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const value = Number(flag ?? env ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number ≥ 0`);
  return value;
}

/** `--name` or `BENCH_NAME=1`: a switch, off unless given. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`) || process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`] === '1';
}

export function listOption(name: string, fallback: number[]): number[] {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const raw = flag ?? process.env[`BENCH_${name.toUpperCase()}`];
  return raw ? raw.split(',').map(Number) : fallback;
}

export async function openSession(infra: BenchInfra) {
  const connection = await Connection.connect({ address: infra.temporal.address });
  const client = new Client({ connection });
  const db = new pg.Client({ connectionString: infra.db.url });
  await db.connect();
  const count = async (sql: string) => Number((await db.query(sql)).rows[0].n);
  const running = async (types: string[]) =>
    client.workflow
      .count(`TaskQueue = '${PRODUCT_TASK_QUEUE}' AND ExecutionStatus = 'Running' AND WorkflowType IN (${types.map((t) => `'${t}'`).join(', ')})`)
      .then((r) => r.count)
      .catch(() => 0);
  return {
    client,
    db,
    /**
     * Waits until what a run left behind is done — both mail outboxes delivered, no product fan-out
     * or mail workflow running — so that the next run does not pay for it.
     */
    async quiesce(timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const pending =
          (await count(`select count(*) as n from mails where state = 'pending'`)) +
          (await count(`select count(*) as n from plain.outbox where sent_at is null`)) +
          (await running(['availabilityFanoutWorkflow', 'moduleFanoutWorkflow', 'purchaseMailWorkflow']));
        if (pending === 0 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      await new Promise((r) => setTimeout(r, 500));
    },
    async close() {
      await db.end();
      await connection.close();
    },
  };
}
export type Session = Awaited<ReturnType<typeof openSession>>;

/** Paired round r: the baseline first in even rounds, the product first in odd ones. */
export const orderOf = <T>(round: number, baseline: T, product: T): [T, T] => (round % 2 === 0 ? [baseline, product] : [product, baseline]);
