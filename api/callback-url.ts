/**
 * Callback URLs are called by the worker from inside our network: https only, and never to an
 * address literal of our own host or private network (server-side request forgery).
 * CCX_ALLOW_INSECURE_CALLBACKS opens loopback only (http or https), for development and tests.
 * Host names are not resolved here: a public name that resolves to a private address is the
 * delivery side's concern.
 */
import { BlockList, isIP } from 'node:net';
import { ErrorCode } from '../domain/errors.ts';
import { ApiError } from './errors.ts';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

// IPv4-mapped IPv6 literals ([::ffff:10.0.0.1]) match the IPv4 rules too (BlockList does that).
const internal = new BlockList();
internal.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network"; 0.0.0.0 reaches the local host
internal.addSubnet('10.0.0.0', 8, 'ipv4');
internal.addSubnet('172.16.0.0', 12, 'ipv4');
internal.addSubnet('192.168.0.0', 16, 'ipv4');
internal.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, cloud metadata endpoints
internal.addAddress('::', 'ipv6');
internal.addSubnet('fc00::', 7, 'ipv6'); // unique-local
internal.addSubnet('fe80::', 10, 'ipv6'); // link-local

const refuse = (message: string) =>
  new ApiError(ErrorCode.INVALID_REQUEST, `callback.url ${message}`, {
    location: 'body',
    issues: [{ field: 'callback.url', message }],
  });

/** Throws 400 INVALID_REQUEST naming `callback.url` unless the URL may be called back. */
export function checkCallbackUrl(url: string, allowInsecure: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse('must be an absolute URL');
  }
  // WHATWG URL has already normalised IPv4 forms (0x7f.1, 2130706433) to dotted decimal.
  const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  const family = isIP(host);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  const isLoopback = host === 'localhost' || host.endsWith('.localhost') || (family !== 0 && loopback.check(host, type));
  if (isLoopback && allowInsecure) return;
  if (parsed.protocol !== 'https:') throw refuse('must use https');
  if (isLoopback || (family !== 0 && internal.check(host, type))) {
    throw refuse('must not point to a loopback, private or link-local address');
  }
}
