/** The admission gate on its own (pure): limit, FIFO order, the queue's bound and its longest wait. */
import { describe, expect, test } from 'vitest';
import { AdmissionGate } from '../../api/admission.ts';

describe('AdmissionGate', () => {
  test('admits up to the limit, then queues in arrival order; a release admits the next', async () => {
    const gate = new AdmissionGate({ limit: 2, queue: 5, maxWaitMs: 10_000 });
    const first = (await gate.enter())!;
    const second = (await gate.enter())!;
    const order: string[] = [];
    const third = gate.enter().then((r) => (order.push('third'), r));
    const fourth = gate.enter().then((r) => (order.push('fourth'), r));
    expect(gate.load).toEqual({ inFlight: 2, waiting: 2 });
    first();
    first(); // a second release of the same slot changes nothing
    const releaseThird = (await third)!;
    expect(gate.load).toEqual({ inFlight: 2, waiting: 1 });
    second();
    const releaseFourth = (await fourth)!;
    expect(order).toEqual(['third', 'fourth']);
    releaseThird();
    releaseFourth();
    expect(gate.load).toEqual({ inFlight: 0, waiting: 0 });
  });

  test('refuses at once when the queue is full, and after the longest wait; Retry-After grows with the queue', async () => {
    const gate = new AdmissionGate({ limit: 1, queue: 1, maxWaitMs: 50 });
    const held = (await gate.enter())!;
    const waiting = gate.enter();
    expect(await gate.enter()).toBeNull(); // the queue is full
    expect(await waiting).toBeNull(); // waited its longest
    expect(gate.load).toEqual({ inFlight: 1, waiting: 0 });
    expect(gate.retryAfterSeconds()).toBeGreaterThanOrEqual(1);
    const crowded = new AdmissionGate({ limit: 1, queue: 1000, maxWaitMs: 100 });
    await crowded.enter();
    const queued = Array.from({ length: 200 }, () => crowded.enter());
    expect(crowded.retryAfterSeconds()).toBeGreaterThan(gate.retryAfterSeconds());
    held();
    expect(await Promise.all(queued)).toEqual(Array(200).fill(null)); // nobody released the one slot
  });

  test('settings that cannot work are refused', () => {
    expect(() => new AdmissionGate({ limit: 0, queue: 1, maxWaitMs: 1 })).toThrow(/invalid admission/);
  });
});
