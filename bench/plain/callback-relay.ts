/**
 * The baseline's callback relay, built like its mail relay (relay.ts): claims due rows of
 * `plain.callbacks` (`FOR UPDATE SKIP LOCKED`, so several relays could share the work), POSTs each
 * body signed `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with its delivery id, and settles
 * the rows in the same transaction: delivered on a 2xx, otherwise due again after 2 s, doubling up
 * to an hour. A relay that dies mid-pass rolls back, so its rows stay due (at least once).
 */
import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { startPassLoop } from './pass-loop.ts';

interface Due {
  id: string;
  url: string;
  secret: string;
  body: string;
}

/** true when the receiver acknowledged (2xx) within the timeout. */
async function post(row: Due, timeoutMs: number): Promise<boolean> {
  const t = Math.floor(Date.now() / 1000); // signed anew per attempt, so a retry is not a stale replay
  const v1 = createHmac('sha256', row.secret).update(`${t}.${row.body}`).digest('hex');
  try {
    const res = await fetch(row.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-delivery-id': row.id, 'x-signature': `t=${t},v1=${v1}` },
      body: row.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer(); // read to the end, so the connection goes back to the pool
    return res.ok;
  } catch {
    return false;
  }
}

export function startCallbackRelay(pool: pg.Pool, { batch = 16, idleMs = 500, timeoutMs = 10_000 } = {}) {
  return startPassLoop(pool, { batch, idleMs }, async (c) => {
    const { rows } = await c.query<Due>(
      `select id, url, secret, body from plain.callbacks where delivered_at is null and due_at <= now() order by due_at limit $1 for update skip locked`,
      [batch],
    );
    const acked = await Promise.all(rows.map((r) => post(r, timeoutMs)));
    const delivered = rows.filter((_, n) => acked[n]).map((r) => r.id);
    const again = rows.filter((_, n) => !acked[n]).map((r) => r.id);
    if (delivered.length > 0) await c.query(`update plain.callbacks set delivered_at = now(), attempts = attempts + 1 where id = any($1)`, [delivered]);
    if (again.length > 0) {
      await c.query(`update plain.callbacks set attempts = attempts + 1, due_at = now() + interval '1 second' * least(3600, 2 ^ (attempts + 1)) where id = any($1)`, [again]);
    }
    return rows.length;
  });
}
