/**
 * Admission control (api.md "Conventions"): at most `limit` commands of this API process are in
 * Temporal at once; the next ones wait their turn in a FIFO queue, and past the queue's bound or
 * its longest wait they are answered 429 BUSY with `Retry-After`. Without it, more callers than
 * the stack serves at once all share the server's capacity, every call slows down together and
 * past the Temporal deadline the answer is 503 "outcome unknown" — slowness turned into doubt.
 * With it, an admitted command gets the server's attention at once and a refused one knows it
 * never started. The hook runs after authentication and before the Idempotency-Key is claimed,
 * so a 429 is never recorded and a retry with the same key proceeds normally; the Temporal
 * deadline counts from admission (waiting here is separate from it).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../domain/errors.ts';
import { ApiError } from './errors.ts';
import { restartTemporalBudget } from './temporal-deadline.ts';

export interface AdmissionSettings {
  /** Commands in Temporal at once (CCX_MAX_IN_FLIGHT). */
  limit: number;
  /** Commands waiting for a slot at most (CCX_ADMISSION_QUEUE); the next one is refused at once. */
  queue: number;
  /** Longest wait for a slot (CCX_ADMISSION_WAIT_MS) before the answer is 429. */
  maxWaitMs: number;
}

export const defaultAdmission: AdmissionSettings = { limit: 16, queue: 500, maxWaitMs: 10_000 };

interface Waiter {
  admit(): void;
  timer: NodeJS.Timeout;
}

export class AdmissionGate {
  private inFlight = 0;
  private readonly waiting: Waiter[] = [];
  /** Moving average of how long an admitted command holds its slot: the basis of Retry-After. */
  private serviceMs = 200;

  constructor(readonly settings: AdmissionSettings) {
    if (!(settings.limit >= 1 && settings.queue >= 0 && settings.maxWaitMs >= 0)) throw new Error(`invalid admission settings ${JSON.stringify(settings)}`);
  }

  get load(): { inFlight: number; waiting: number } {
    return { inFlight: this.inFlight, waiting: this.waiting.length };
  }

  /** Resolves with a release function once admitted, or with null when refused. */
  enter(): Promise<(() => void) | null> {
    if (this.inFlight < this.settings.limit && this.waiting.length === 0) return Promise.resolve(this.admitted());
    if (this.waiting.length >= this.settings.queue) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(waiter.timer);
          resolve(this.admitted());
        },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          resolve(null);
        }, this.settings.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  /** Seconds until a slot is likely free for one more caller: the queue ahead served at the recent pace. */
  retryAfterSeconds(): number {
    const ahead = this.waiting.length + 1;
    return Math.min(30, Math.max(1, Math.ceil((ahead * this.serviceMs) / this.settings.limit / 1000)));
  }

  private admitted(): () => void {
    this.inFlight++;
    const since = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.serviceMs = 0.9 * this.serviceMs + 0.1 * (Date.now() - since);
      this.inFlight--;
      const next = this.waiting.shift();
      next?.admit();
    };
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    releaseAdmission: (() => void) | null;
  }
  interface FastifyContextConfig {
    /** The route waits for admission and may answer 429 (the document reads it: api/openapi.ts). */
    admission?: boolean;
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The gate as a preHandler of a route group whose commands go to Temporal. Register it after
 * `authenticateRoutes` and before `registerIdempotency`. The slot is given back when the answer
 * has gone out, or when the client went away (the command itself still finishes).
 */
export function registerAdmission(app: FastifyInstance, gate: AdmissionGate): void {
  app.addHook('onRoute', (route) => {
    if ([route.method].flat().some((m) => STATE_CHANGING.has(m.toUpperCase()))) route.config = { ...route.config, admission: true };
  });
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!STATE_CHANGING.has(request.method)) return;
    const release = await gate.enter();
    if (!release) {
      void reply.header('retry-after', String(gate.retryAfterSeconds()));
      throw new ApiError(ErrorCode.BUSY, 'more commands in flight than the stack serves at once; retry after the time in Retry-After');
    }
    request.releaseAdmission = release;
    reply.raw.once('close', release);
    restartTemporalBudget();
  });
  app.addHook('onResponse', async (request) => request.releaseAdmission?.());
}
