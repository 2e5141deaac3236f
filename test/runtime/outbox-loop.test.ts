import { describe, expect, it } from 'vitest';
import { startOutboxLoop } from '../../runtime/outbox-loop.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A queue of due items behind a claim function that records the limit of every claim. */
function dueItems(count: number) {
  let next = 0;
  const claims: number[] = [];
  return {
    claims,
    claim: async (_token: string, limit: number) => {
      claims.push(limit);
      const items = Array.from({ length: Math.min(limit, count - next) }, () => next++);
      return items;
    },
  };
}

describe('startOutboxLoop', () => {
  it('claims once for slots that free up close together, not once per slot', async () => {
    const due = dueItems(8);
    const delivered: number[] = [];
    // The first four finish a few ms apart; the claim for the next ones should cover all four.
    const loop = startOutboxLoop({
      name: 'test',
      intervalMs: 10_000,
      batch: 4,
      coalesceMs: 40,
      claim: due.claim,
      deliver: async (item: number) => {
        await sleep(5 + item * 3);
        delivered.push(item);
      },
      log: () => {},
    });
    for (let waited = 0; delivered.length < 8 && waited < 3000; waited += 10) await sleep(10);
    await loop.stop();
    expect(delivered.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // First claim for 4, then one for the four freed slots — not four claims of 1.
    expect(due.claims.slice(0, 2)).toEqual([4, 4]);
  });
});
