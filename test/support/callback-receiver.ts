/**
 * A real HTTP receiver of callbacks in the test process (node:http on 127.0.0.1): it keeps every
 * request it got and answers what the test tells it to.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  headers: http.IncomingHttpHeaders;
  body: string;
  path: string;
}

export interface CallbackReceiver {
  port: number;
  url: (path?: string) => string;
  received: ReceivedCallback[];
  /** The status to answer a request with (default 200); may hold the answer back by returning a promise. */
  answer(fn: (request: ReceivedCallback, nth: number) => number | Promise<number>): void;
  /** Resolves with the requests once `count` match (polls; fails the test after `timeoutMs`). */
  waitFor(match: (r: ReceivedCallback) => boolean, count?: number, timeoutMs?: number): Promise<ReceivedCallback[]>;
  stop(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = [];
  let answer: (request: ReceivedCallback, nth: number) => number | Promise<number> = () => 200;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '' };
      received.push(request);
      void Promise.resolve(answer(request, received.length)).then((status) => {
        res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    received,
    answer(fn) {
      answer = fn;
    },
    async waitFor(match, count = 1, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const hits = received.filter(match);
        if (hits.length >= count) return hits;
        if (Date.now() > until) throw new Error(`the receiver got ${hits.length} of ${count} expected callbacks (${received.length} in all)`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
