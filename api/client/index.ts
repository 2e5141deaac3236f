/**
 * The typed client of the HTTP API for other TypeScript systems (and `ccx demo`, and the API
 * tests): openapi-fetch over the types generated from /openapi.json (`npm run client:types`
 * writes openapi.ts; a test fails when it and the document disagree). It adds the API key and,
 * on every state-changing call, an `Idempotency-Key` — a fresh one unless the caller passes its
 * own, which is what a retry after a 503 must do to converge on one effect.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './openapi.ts';

export type { paths } from './openapi.ts';
export type CcxClient = Client<paths>;

export interface CcxClientOptions {
  /** e.g. http://127.0.0.1:3000 (no trailing /v1: paths carry it). */
  baseUrl: string;
  /** An operator, viewer or client key; omit for /health only. */
  apiKey?: string;
  /** Another transport (tests hand requests to app.inject); defaults to the global fetch. */
  fetch?: (input: Request) => Promise<Response>;
  /** Seen once per request, before it leaves (progress output, coverage in tests). */
  onRequest?: (request: { method: string; schemaPath: string }) => void;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function ccxClient(options: CcxClientOptions): CcxClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
  });
  const middleware: Middleware = {
    onRequest({ request, schemaPath }) {
      options.onRequest?.({ method: request.method, schemaPath });
      if (STATE_CHANGING.has(request.method) && !request.headers.has('idempotency-key')) {
        request.headers.set('idempotency-key', globalThis.crypto.randomUUID());
      }
      return request;
    },
  };
  client.use(middleware);
  return client;
}

/** A rule set's YAML as the body of POST /v1/rule-sets (the client sends JSON otherwise). */
export const yamlBody = {
  bodySerializer: (yaml: unknown) => String(yaml),
  headers: { 'content-type': 'application/yaml' },
} as const;
