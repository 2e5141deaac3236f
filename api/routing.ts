/**
 * What the router answers before any route runs, in the API's error format (docs/architecture.md
 * "Errors"): a malformed path (bad percent-encoding, a parameter longer than the router keeps) is
 * 400, a method the path does not declare is 405 with `Allow`, an unknown path 404, and a request
 * Node cannot even parse 400 (408 / 431 for a timeout / oversized headers). Also the table of
 * every route as declared, which /openapi.json, the 405 answers and the authorization tests read.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, RouteOptions } from 'fastify';
import { ErrorCode } from '../domain/errors.ts';
import { ApiError, ApiOnlyCode, notFoundHandler } from './errors.ts';

/** Longest raw (percent-encoded) path parameter the router keeps; the routes' schemas allow 100 decoded characters. */
export const MAX_RAW_PARAM_LENGTH = 1000;

/** Fastify's `frameworkErrors`: errors of the router, before a route is known. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? `a path parameter is longer than ${MAX_RAW_PARAM_LENGTH} characters`
      : error.code === 'FST_ERR_BAD_URL'
        ? 'the path is not valid percent-encoded UTF-8'
        : 'the request could not be routed';
  const apiError = new ApiError(ErrorCode.INVALID_REQUEST, message, { location: 'path', issues: [{ field: 'path', message }] });
  void reply.code(apiError.statusCode).send(apiError.toBody());
}

/** Node's `clientError`: a request too broken to reach Fastify. Answered in our format, then closed. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'the request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
        : [400, 'Bad Request', 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code: ErrorCode.INVALID_REQUEST, message } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

/**
 * Who may call a route: declared by its route group (api/auth.ts `authenticateRoutes`). `reader`:
 * reads with any key — the route itself narrows a client to its own data (the /machines live view).
 */
export type Audience = 'public' | 'operator' | 'client' | 'reader';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set for every route of an authenticated group; routes without it answer without a key. */
    audience?: Audience;
    /** A route that only answers 405 (see `addShadowedMethodStubs`). */
    methodNotAllowed?: boolean;
  }
}

export interface DeclaredRoute {
  method: HTTPMethods;
  url: string;
  /** Read when asked: route groups stamp it after this table saw the route. */
  readonly options: RouteOptions;
}

const API_METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Collects every route as it is declared (call before any route is added). The routes of the
 * document are those not hidden from it; `audience` reads the route's config.
 */
export function collectRoutes(app: FastifyInstance): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  app.addHook('onRoute', (options) => {
    for (const method of [options.method].flat()) routes.push({ method: method as HTTPMethods, url: options.url, options });
  });
  return routes;
}

export const audienceOf = (route: DeclaredRoute): Audience => route.options.config?.audience ?? 'public';
export const isDocumented = (route: DeclaredRoute): boolean =>
  !route.options.config?.methodNotAllowed && !(route.options.schema as { hide?: boolean } | undefined)?.hide && !route.url.startsWith('/docs');

/** `METHOD path` of the 405 stubs (see `addShadowedMethodStubs`). */
export type MethodStubs = Set<string>;

/** The methods declared for the concrete path `url` (real routes only, never the 405 stubs). */
function allowedMethods(app: FastifyInstance, url: string, stubs: ReadonlySet<string>): HTTPMethods[] {
  return API_METHODS.filter((method) => !stubs.has(`${method} ${url}`) && app.findRoute({ method, url }) !== null);
}

function methodNotAllowed(reply: FastifyReply, method: string, allowed: HTTPMethods[]): void {
  const error = new ApiError(ApiOnlyCode.METHOD_NOT_ALLOWED, `${method} is not allowed here; allowed: ${allowed.join(', ')}`, { allowed });
  void reply.code(405).header('allow', allowed.join(', ')).send(error.toBody());
}

/**
 * 404 for a path no route declares; 405 with `Allow` for a path declared with other methods.
 * Answered when the request arrives, before its body is read: a method Fastify expects a body
 * for (QUERY, …) would otherwise be refused for its missing Content-Type first. Install on the
 * root instance.
 */
export function answerUnroutedRequests(app: FastifyInstance, stubs: ReadonlySet<string>): void {
  const answer = (request: FastifyRequest, reply: FastifyReply) => {
    const path = (request.raw.url ?? '/').split('?')[0]!;
    const allowed = allowedMethods(request.server, path, stubs);
    if (allowed.length > 0) return methodNotAllowed(reply, request.method, allowed);
    return notFoundHandler(request, reply);
  };
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return answer(request, reply);
  });
  app.setNotFoundHandler(answer);
}

/**
 * A static path beside a parametric one (GET /v1/offers/external beside PATCH /v1/offers/{id})
 * would route `PATCH /v1/offers/external` to the parametric route. For each such (method, static
 * path) a stub answers 405 instead: the document declares only GET for that path. Register after
 * every route (the plugin runs once all earlier plugins have added theirs).
 */
export function addShadowedMethodStubs(app: FastifyInstance, routes: readonly DeclaredRoute[], stubs: MethodStubs): void {
  void app.register(async (instance) => {
    const staticPaths = [...new Set(routes.filter((r) => isDocumented(r) && !r.url.includes(':')).map((r) => r.url))];
    for (const url of staticPaths) {
      const own = new Set(routes.filter((r) => r.url === url).map((r) => r.method));
      for (const method of API_METHODS) {
        if (own.has(method) || instance.findRoute({ method, url }) === null) continue;
        stubs.add(`${method} ${url}`);
        instance.route({
          method,
          url,
          config: { methodNotAllowed: true },
          schema: { hide: true },
          handler: async (request, reply) => methodNotAllowed(reply, request.method, allowedMethods(request.server, url, stubs)),
        });
      }
    }
  });
}
