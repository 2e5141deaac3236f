/**
 * One callback attempt over HTTP, safe against server-side request forgery: the attempt resolves
 * the host itself, refuses when any address it got is not on the public internet
 * (api/callback-url.ts `forbiddenAddress`; loopback only with CCX_ALLOW_INSECURE_CALLBACKS=1), and
 * connects to exactly the address it checked — the socket's own lookup answers with it, so there
 * is no second resolution a rebinding DNS server could answer differently. Redirects are not
 * followed (Node's client never does): a 3xx is just not an acknowledgement. One deadline covers
 * the whole attempt — resolving, connecting, sending and the complete answer — so a receiver that
 * answers byte by byte holds its dispatcher slot no longer than any other.
 */
import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { forbiddenAddress } from '../api/callback-url.ts';

export type Resolve = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolve: Resolve = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** `X-CCX-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`. */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** The attempt never reached a receiver we may call (or never got an answer). */
export class CallbackSendError extends Error {
  constructor(message: string, readonly refused = false) {
    super(message);
    this.name = 'CallbackSendError';
  }
}

export interface CallbackRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  allowInsecure: boolean;
  resolve?: Resolve;
  /** The whole attempt, from resolving the host to the answer's last byte (10 s). */
  timeoutMs?: number;
  /** Trust anchors instead of the system's, for https (tests; a receiver behind a private CA). */
  ca?: string | Buffer;
}

/** The receiver's status code; throws CallbackSendError when there is none. */
export async function postCallback(req: CallbackRequest): Promise<number> {
  const timeoutMs = req.timeoutMs ?? 10_000;
  const deadline = AbortSignal.timeout(timeoutMs);
  const late = () => new CallbackSendError(`no complete answer within ${timeoutMs} ms`);
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new CallbackSendError('the callback URL is not an absolute URL', true);
  }
  if (url.username || url.password) throw new CallbackSendError('the callback URL carries credentials', true);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && req.allowInsecure)) throw new CallbackSendError('the callback URL must use https', true);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');

  let addresses: Array<{ address: string; family: number }>;
  if (isIP(hostname) !== 0) addresses = [{ address: hostname, family: isIP(hostname) }];
  else {
    try {
      // A hanging resolver cannot be cancelled, but the attempt stops waiting for it.
      addresses = await Promise.race([
        (req.resolve ?? systemResolve)(hostname),
        new Promise<never>((_, reject) => deadline.addEventListener('abort', () => reject(late()), { once: true })),
      ]);
    } catch (err) {
      if (deadline.aborted) throw late();
      throw new CallbackSendError(`cannot resolve ${hostname}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (addresses.length === 0) throw new CallbackSendError(`${hostname} resolves to no address`);
  for (const { address } of addresses) {
    const why = forbiddenAddress(address, req.allowInsecure);
    if (why) throw new CallbackSendError(`refused: ${hostname} resolves to ${address}, which ${why}`, true);
  }
  // Plain http only to loopback, even with insecure callbacks allowed.
  if (url.protocol === 'http:' && addresses.some(({ address }) => forbiddenAddress(address, false) === null)) {
    throw new CallbackSendError('plain http is allowed to loopback only', true);
  }
  const checked = addresses[0]!;
  const pinned: LookupFunction = (_host, options, callback) => {
    if (options.all) (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [checked]);
    else callback(null, checked.address, checked.family);
  };

  const client = url.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const request = client.request(
      {
        protocol: url.protocol,
        host: hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
        lookup: pinned,
        agent: false, // no pooled socket resolved for another attempt
        signal: deadline,
        // The certificate is checked against the name in the URL, not the pinned address.
        ...(url.protocol === 'https:' && isIP(hostname) === 0 ? { servername: hostname } : {}),
        ...(req.ca !== undefined ? { ca: req.ca } : {}),
      },
      (response) => {
        response.resume(); // the answer's body is not ours to keep
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('close', () => {
          if (!response.complete) reject(deadline.aborted ? late() : new CallbackSendError('the answer broke off'));
        });
        response.on('error', (err) => reject(deadline.aborted ? late() : new CallbackSendError(`the answer broke off: ${err.message}`)));
      },
    );
    // The signal ends the request and its answer alike (an 'error' on the request or the response).
    request.on('error', (err) => reject(deadline.aborted ? late() : err instanceof CallbackSendError ? err : new CallbackSendError(err.message)));
    request.end(req.body);
  });
}
