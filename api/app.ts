/**
 * The HTTP API (docs/architecture.md "HTTP API"): plugins and route groups, nothing else. Authentication, idempotency and
 * the principal check are hooks of the route groups, so /health, /docs and unknown routes answer
 * without a key.
 */
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { startPairFanouts } from '../activities/availability.dispatch.ts';
import type { Database } from '../db/schema.ts';
import { AdmissionGate, defaultAdmission, type AdmissionSettings } from './admission.ts';
import { errorHandler } from './errors.ts';
import { refuseUnstorableInput } from './input-guard.ts';
import { registerOpenApi } from './openapi.ts';
import { auditRoutes } from './routes/audit.ts';
import { callbackRoutes } from './routes/callbacks.ts';
import { cartRoutes } from './routes/carts.ts';
import { connectionRoutes } from './routes/connections.ts';
import { defaultHealth, healthRoutes, type Health } from './routes/health.ts';
import { eventRoutes } from './routes/events.ts';
import { mailRoutes } from './routes/mails.ts';
import { offerRoutes } from './routes/offers.ts';
import { orderMovementRoutes } from './routes/order-movements.ts';
import { operatorRoutes } from './routes/operator.ts';
import { purchaseRoutes } from './routes/purchases.ts';
import { payoutRoutes } from './routes/payouts.ts';
import { machineRoutes } from './routes/machines.ts';
import { ruleSetRoutes } from './routes/rule-sets.ts';
import { trackRequestArrival } from './temporal-deadline.ts';
import {
  addShadowedMethodStubs,
  answerUnroutedRequests,
  clientErrorHandler,
  collectRoutes,
  frameworkErrors,
  MAX_RAW_PARAM_LENGTH,
  type DeclaredRoute,
  type MethodStubs,
} from './routing.ts';
import { useZod } from './validation.ts';

export interface ApiDeps {
  db: Kysely<Database>;
  temporal: { client: Client; taskQueue: string; namespace: string };
  /** 32 bytes: AES-256-GCM key for stored callback secrets (CCX_SECRET_KEY). */
  secretKey: Buffer;
  /**
   * Budget of the Temporal calls of one request, from its arrival; past it the answer is 503
   * (default 3500: with the work around it, a 503 goes out within api.md's 5 s).
   */
  temporalDeadlineMs?: number;
  health?: () => Promise<Health>;
  /** CCX_ALLOW_INSECURE_CALLBACKS: plain-http callbacks to loopback (development, tests). */
  allowInsecureCallbacks?: boolean;
  /** Admission control of commands that go to Temporal (api/admission.ts; default `defaultAdmission`). */
  admission?: AdmissionSettings;
  /** Base URL of the Temporal UI, for the /machines page's links to runs (none: no links). */
  temporalUiUrl?: string | undefined;
  /** Fastify logger option (default off: the caller decides where logs go). */
  logger?: boolean;
}

export const BODY_LIMIT = 1024 * 1024; // bodies over 1 MiB → 413

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route as declared (api/routing.ts): the document, 405 answers and the authorization tests read it. */
    declaredRoutes: readonly DeclaredRoute[];
    /** The process's admission gate (api/admission.ts); /health and the tests read its load. */
    admission: AdmissionGate;
  }
}

export function buildApp(deps: ApiDeps): FastifyInstance {
  if (deps.secretKey.length !== 32) throw new Error('ApiDeps.secretKey must be 32 bytes');
  const temporalDeadlineMs = deps.temporalDeadlineMs ?? 3500;
  // One gate for the process: connections, carts and purchases share the Temporal capacity.
  const admission = new AdmissionGate(deps.admission ?? defaultAdmission);
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: deps.logger ?? false,
    // Only what the document declares: HEAD is a method like any other (405), parameters up to
    // the router's limit reach the routes' schemas (400 naming the field), router errors and
    // unparseable requests answer in the API's format.
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: MAX_RAW_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
  });

  const routes = collectRoutes(app);
  app.decorate('declaredRoutes', routes);
  app.decorate('admission', admission);
  app.decorateRequest('principal', null as never);
  app.decorateRequest('apiKeyId', '');
  app.decorateRequest('idempotency', null);
  trackRequestArrival(app); // first: Temporal deadlines count from here
  app.setErrorHandler(errorHandler);
  const methodStubs: MethodStubs = new Set();
  answerUnroutedRequests(app, methodStubs);
  useZod(app);
  refuseUnstorableInput(app);

  // JSON only: no text/plain parser (→ 415), and an empty JSON body counts as no body, so
  // body-less commands work with clients that always send Content-Type: application/json.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0) return done(null, undefined);
    void parseJson(request, body as string, done); // callback style: it answers through `done`
  });

  registerOpenApi(app);
  void app.register(healthRoutes(deps.health ?? defaultHealth({ db: deps.db, temporal: deps.temporal, timeoutMs: temporalDeadlineMs })));
  void app.register(operatorRoutes({ db: deps.db, temporal: deps.temporal, temporalDeadlineMs }));
  void app.register(ruleSetRoutes({ db: deps.db }));
  void app.register(mailRoutes({ db: deps.db }));
  void app.register(auditRoutes({ db: deps.db }));
  void app.register(
    connectionRoutes({
      db: deps.db,
      temporal: deps.temporal,
      secretKey: deps.secretKey,
      temporalDeadlineMs,
      allowInsecureCallbacks: deps.allowInsecureCallbacks ?? false,
      admission,
    }),
  );
  void app.register(
    callbackRoutes({
      db: deps.db,
      temporal: deps.temporal,
      secretKey: deps.secretKey,
      temporalDeadlineMs,
      allowInsecureCallbacks: deps.allowInsecureCallbacks ?? false,
    }),
  );
  void app.register(
    offerRoutes({
      db: deps.db,
      // The offer is committed and its pairs' versions bumped; this tells their carts now (the
      // worker's relay starts any fan-out lost here).
      onPairsTouched: async (pairs) => {
        const starts = await startPairFanouts({ db: deps.db, ...deps.temporal }, pairs, { startDeadlineMs: temporalDeadlineMs });
        const failed = starts.filter((s) => s.outcome === 'failed');
        if (failed.length > 0) throw new Error(`${failed.length} fan-out start(s) failed; the relay retries them`);
      },
    }),
  );
  void app.register(cartRoutes({ db: deps.db, temporal: deps.temporal, temporalDeadlineMs, admission }));
  void app.register(purchaseRoutes({ db: deps.db, temporal: deps.temporal, temporalDeadlineMs, admission }));
  void app.register(orderMovementRoutes({ db: deps.db, callbackQueue: deps.temporal.taskQueue }));
  void app.register(payoutRoutes({ db: deps.db }));
  void app.register(machineRoutes({ db: deps.db, temporal: deps.temporal, temporalDeadlineMs, temporalUiUrl: deps.temporalUiUrl }));
  void app.register(eventRoutes({ db: deps.db }));
  addShadowedMethodStubs(app, routes, methodStubs); // last: it looks at every route above
  return app;
}
