/**
 * What the baseline's relays share: a transaction per unit of work, and a loop that runs passes
 * until stopped, resting when a pass found less than a full batch.
 */
import type pg from 'pg';

export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const result = await fn(c);
    await c.query('commit');
    return result;
  } catch (err) {
    await c.query('rollback').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

/** Runs `pass` (which claims up to `batch` rows in its transaction and returns how many) until stopped. */
export function startPassLoop(pool: pg.Pool, { batch, idleMs }: { batch: number; idleMs: number }, pass: (c: pg.PoolClient) => Promise<number>) {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const n = await inTransaction(pool, pass).catch(() => 0);
      if (n < batch) await new Promise((r) => setTimeout(r, idleMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
