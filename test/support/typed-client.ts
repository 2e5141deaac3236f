/**
 * The typed client (api/client) in tests: requests go through app.inject instead of the network,
 * so a test uses exactly what another system would, without a listening port.
 */
import type { FastifyInstance } from 'fastify';
import { ccxClient, type CcxClient, type CcxClientOptions } from '../../api/client/index.ts';

export function injectFetch(app: () => FastifyInstance): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const res = await app().inject({
      method: request.method as 'GET',
      url: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
      ...(body ? { payload: body } : {}),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers.set(name, String(value));
    return new Response(res.statusCode === 204 ? null : new Uint8Array(res.rawPayload), { status: res.statusCode, headers });
  };
}

/** A typed client for one key, talking to the app in process. */
export function typedClient(app: () => FastifyInstance, apiKey?: string, onRequest?: CcxClientOptions['onRequest']): CcxClient {
  return ccxClient({ baseUrl: 'http://ccx.test', fetch: injectFetch(app), ...(apiKey ? { apiKey } : {}), ...(onRequest ? { onRequest } : {}) });
}

/** The answer's body when its status is the one expected; else a failure naming the request. */
export async function expectStatus<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>, status: number): Promise<T> {
  const { data, error, response } = await call;
  if (response.status !== status) {
    throw new Error(`${response.url}: expected ${status}, got ${response.status} ${JSON.stringify(error ?? data)}`);
  }
  return data as T;
}
