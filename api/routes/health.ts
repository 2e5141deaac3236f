/**
 * GET /health (no auth): 200 when Temporal answers, Postgres answers and a worker polls the task
 * queue; else 503 naming the failing part. Each probe has its own short timeout, so a hanging
 * dependency shows up as "unavailable" instead of hanging the probe.
 *
 * `mail` reports the outbox: `failing` when the relay refuses our own setup (credentials, sender),
 * `retrying` when mails wait on a relay that is down or deferring. It never turns the answer into
 * a 503: every lifecycle goes on without SMTP, so a load balancer must keep this instance.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import { mailBacklog } from '../../db/mail.repository.ts';
import type { Database } from '../../db/schema.ts';
import { withZod } from '../validation.ts';

export type PartHealth = 'ok' | 'unavailable';
export interface MailHealth {
  status: 'ok' | 'retrying' | 'failing' | 'unknown';
  pending?: number;
  retrying?: number;
  oldestPendingSeconds?: number | null;
  lastErrorKind?: 'configuration' | 'transient';
  lastError?: string;
}
export interface Health {
  temporal: PartHealth;
  database: PartHealth;
  worker: PartHealth;
  mail?: MailHealth;
}

export interface HealthDeps {
  db: Kysely<Database>;
  temporal: { client: Client; taskQueue: string; namespace: string };
  timeoutMs: number;
}

/** A worker polls at least once a minute (long polls last ~60 s); allow some slack. */
const POLLER_FRESH_MS = 70_000;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_KIND_NORMAL = 1;

function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const toMs = (seconds: unknown, nanos: unknown) => Number(String(seconds ?? 0)) * 1000 + Number(nanos ?? 0) / 1e6;

export function defaultHealth(deps: HealthDeps): () => Promise<Health> {
  const { client, taskQueue, namespace } = deps.temporal;
  const service = client.connection.workflowService;
  const probe = async (check: () => Promise<boolean>): Promise<PartHealth> =>
    (await within(deps.timeoutMs, check()).catch(() => false)) ? 'ok' : 'unavailable';

  return async () => {
    const [temporal, database, worker, mail] = await Promise.all([
      probe(async () => (await service.getSystemInfo({}), true)),
      probe(async () => (await sql`select 1`.execute(deps.db), true)),
      probe(async () => {
        const res = await service.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
        });
        const now = Date.now();
        return (res.pollers ?? []).some((p) => p.lastAccessTime && now - toMs(p.lastAccessTime.seconds, p.lastAccessTime.nanos) < POLLER_FRESH_MS);
      }),
      within(deps.timeoutMs, mailHealth(deps.db, taskQueue)).catch((): MailHealth => ({ status: 'unknown' })),
    ]);
    return { temporal, database, worker, mail };
  };
}

async function mailHealth(db: Kysely<Database>, queue: string): Promise<MailHealth> {
  const backlog = await mailBacklog(db, queue);
  const status = backlog.lastError?.kind === 'configuration' ? 'failing' : backlog.retrying > 0 ? 'retrying' : 'ok';
  return {
    status,
    pending: backlog.pending,
    retrying: backlog.retrying,
    oldestPendingSeconds: backlog.oldestPendingAt ? Math.round((Date.now() - backlog.oldestPendingAt.getTime()) / 1000) : null,
    ...(backlog.lastError ? { lastErrorKind: backlog.lastError.kind, lastError: backlog.lastError.message } : {}),
  };
}

const Part = z.enum(['ok', 'unavailable']);
const Mail = z.object({
  status: z.enum(['ok', 'retrying', 'failing', 'unknown']).describe('failing: the relay refuses our setup; retrying: mails wait for a relay that is down'),
  pending: z.number().int().optional(),
  retrying: z.number().int().optional(),
  oldestPendingSeconds: z.number().int().nullable().optional(),
  lastErrorKind: z.enum(['configuration', 'transient']).optional(),
  lastError: z.string().optional(),
});
const HealthBody = z.object({ temporal: Part, database: Part, worker: Part, mail: Mail.optional() });
// A 503 also carries the usual error object, so clients handling errors generically see it too.
const HealthFailure = HealthBody.extend({ error: z.object({ code: z.literal('UNAVAILABLE'), message: z.string() }) });

export function healthRoutes(check: () => Promise<Health>) {
  return async function routes(app: FastifyInstance): Promise<void> {
    withZod(app).get(
      '/health',
      { schema: { tags: ['health'], summary: 'Temporal, Postgres and a worker answer', response: { 200: HealthBody, 503: HealthFailure } } },
      async (_request, reply) => {
        const health = await check();
        const failing = (['temporal', 'database', 'worker'] as const).filter((part) => health[part] !== 'ok');
        if (failing.length === 0) return reply.code(200).send(health);
        return reply.code(503).send({ ...health, error: { code: 'UNAVAILABLE', message: `unavailable: ${failing.join(', ')}` } });
      },
    );
  };
}
