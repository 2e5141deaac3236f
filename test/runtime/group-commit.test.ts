import { describe, expect, it } from 'vitest';
import { groupCommit } from '../../runtime/group-commit.ts';

/** A write the test finishes by hand, recording what each call carried. */
function manualWrite() {
  const calls: Array<{ items: string[]; finish: (err?: Error) => void }> = [];
  const write = (items: string[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ items, finish: (err) => (err ? reject(err) : resolve()) });
    });
  return { calls, write };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('groupCommit', () => {
  it('writes an item at once when idle, and the items arriving meanwhile together in the next write', async () => {
    const { calls, write } = manualWrite();
    const record = groupCommit(write);
    const first = record('a');
    await tick();
    expect(calls.map((c) => c.items)).toEqual([['a']]);
    const later = [record('b'), record('c'), record('d')];
    await tick();
    expect(calls).toHaveLength(1); // b, c, d wait for a's write
    calls[0]!.finish();
    await first;
    await tick();
    expect(calls.map((c) => c.items)).toEqual([['a'], ['b', 'c', 'd']]);
    calls[1]!.finish();
    await Promise.all(later);
  });

  it('rejects only the callers whose items the failed write carried, and goes on with the next', async () => {
    const { calls, write } = manualWrite();
    const record = groupCommit(write);
    const first = record('a');
    await tick();
    const second = record('b');
    calls[0]!.finish(new Error('database down'));
    await expect(first).rejects.toThrow('database down');
    await tick();
    expect(calls.map((c) => c.items)).toEqual([['a'], ['b']]);
    calls[1]!.finish();
    await expect(second).resolves.toBeUndefined();
    // Idle again: the next item is written at once.
    const third = record('c');
    await tick();
    expect(calls.map((c) => c.items)).toEqual([['a'], ['b'], ['c']]);
    calls[2]!.finish();
    await third;
  });
});
