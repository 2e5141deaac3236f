/**
 * The load generator's HTTP side: requests round-robin over the API processes, every answer
 * recorded (scenario, status, code, latency), and `command()` — the client contract of api.md:
 * always an Idempotency-Key; 503 (outcome unknown) is retried with the same key, as are 429 BUSY
 * (after Retry-After), 409 IDEMPOTENCY_IN_PROGRESS and a missing answer, until another answer
 * comes or the caller's deadline passes.
 */
import { randomUUID } from 'node:crypto';
import { sleep } from './util.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Attempt {
  scenario: string;
  api: number;
  method: Method;
  /** The route with ids replaced by `:id`, for grouping. */
  route: string;
  /** HTTP status, or 0 when no answer came (network error, client timeout after 20 s). */
  status: number;
  code?: string;
  startedAt: number;
  ms: number;
  error?: string;
}

export interface Answer {
  status: number;
  body: any;
  ms: number;
}

export interface CommandOutcome {
  /** The last answer (status 0 = none); `acked` when it is 2xx. */
  final: Answer;
  acked: boolean;
  attempts: number;
  /** Gave up at the deadline while the outcome was still unknown. */
  gaveUp: boolean;
}

const CLIENT_TIMEOUT_MS = 20_000;
const RETRYABLE_409 = 'IDEMPOTENCY_IN_PROGRESS';

export class ApiClient {
  readonly attempts: Attempt[] = [];
  scenario = 'setup';
  private next = 0;

  constructor(private readonly bases: string[]) {}

  async request(method: Method, url: string, key: string | undefined, body?: unknown, idempotencyKey?: string): Promise<Answer> {
    const api = this.next++ % this.bases.length;
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const startedAt = Date.now();
    const attempt: Attempt = { scenario: this.scenario, api, method, route: routeOf(url), status: 0, startedAt, ms: 0 };
    try {
      const res = await fetch(`${this.bases[api]}${url}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      });
      const text = await res.text();
      attempt.ms = Date.now() - startedAt;
      attempt.status = res.status;
      let parsed: any = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: kept as text */
      }
      if (parsed && typeof parsed === 'object' && parsed.error?.code) attempt.code = String(parsed.error.code);
      if (res.status === 429) parsed = { ...(parsed ?? {}), retryAfterS: Number(res.headers.get('retry-after') ?? 1) };
      this.attempts.push(attempt);
      return { status: res.status, body: parsed, ms: attempt.ms };
    } catch (err) {
      attempt.ms = Date.now() - startedAt;
      attempt.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.attempts.push(attempt);
      return { status: 0, body: undefined, ms: attempt.ms };
    }
  }

  /** A state-changing call under the retry contract (see the file comment). */
  async command(method: Method, url: string, key: string, body: unknown, until: number | (() => number), idempotencyKey = randomUUID()): Promise<CommandOutcome> {
    const deadline = typeof until === 'number' ? () => until : until;
    let attempts = 0;
    for (;;) {
      const answer = await this.request(method, url, key, body, idempotencyKey);
      attempts++;
      const retry = retryDelay(answer);
      if (retry === undefined) return { final: answer, acked: answer.status >= 200 && answer.status < 300, attempts, gaveUp: false };
      if (Date.now() + retry >= deadline()) return { final: answer, acked: false, attempts, gaveUp: true };
      await sleep(retry);
    }
  }

  /** Setup and resync calls: retried on anything but 2xx/4xx for up to `timeoutMs`, then thrown. */
  async must(method: Method, url: string, key: string, body?: unknown, expected = [200, 201, 204], timeoutMs = 60_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    const outcome = await this.command(method, url, key, body, deadline);
    if (!expected.includes(outcome.final.status)) {
      throw new Error(`${method} ${url}: ${outcome.final.status} ${JSON.stringify(outcome.final.body)}`);
    }
    return outcome.final.body;
  }
}

function retryDelay(answer: Answer): number | undefined {
  if (answer.status === 0) return 500;
  if (answer.status === 503) return 250;
  if (answer.status === 429) return Math.max(250, 1000 * (answer.body?.retryAfterS ?? 1));
  if (answer.status === 409 && answer.body?.error?.code === RETRYABLE_409) return 500;
  return undefined;
}

const ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[A-Z0-9]{20}\b/g;
export const routeOf = (url: string) => url.split('?')[0]!.replace(ID, ':id');
