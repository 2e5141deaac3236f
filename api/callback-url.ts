/**
 * Callback URLs are called by the worker from inside our network (server-side request forgery):
 * https only, no credentials in the URL, and never an address of our own host, a private network
 * or any range that is not the public internet. CCX_ALLOW_INSECURE_CALLBACKS opens loopback only
 * (http or https), for development and tests.
 *
 * Checked twice: here at registration, where a host name is not resolved (an address literal is
 * refused at once), and by every delivery attempt (runtime/callback-sender.ts), which resolves
 * the name itself, checks every address with `forbiddenAddress` and connects to the one it checked.
 */
import { BlockList, isIP } from 'node:net';
import { ErrorCode } from '../domain/errors.ts';
import { ApiError } from './errors.ts';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

// IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) match the IPv4 rules too (BlockList does that).
const internal = new BlockList();
internal.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network"; 0.0.0.0 reaches the local host
internal.addSubnet('10.0.0.0', 8, 'ipv4');
internal.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT
internal.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, cloud metadata endpoints
internal.addSubnet('172.16.0.0', 12, 'ipv4');
internal.addSubnet('192.0.0.0', 24, 'ipv4'); // IETF protocol assignments
internal.addSubnet('192.0.2.0', 24, 'ipv4'); // documentation
internal.addSubnet('192.88.99.0', 24, 'ipv4'); // 6to4 relay anycast
internal.addSubnet('192.168.0.0', 16, 'ipv4');
internal.addSubnet('198.18.0.0', 15, 'ipv4'); // benchmarking
internal.addSubnet('198.51.100.0', 24, 'ipv4'); // documentation
internal.addSubnet('203.0.113.0', 24, 'ipv4'); // documentation
internal.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
internal.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved, broadcast
internal.addSubnet('::', 96, 'ipv6'); // unspecified and IPv4-compatible (deprecated)
internal.addSubnet('::ffff:0:0:0', 96, 'ipv6'); // IPv4-translated (SIIT): would reach any IPv4 address
internal.addSubnet('64:ff9b::', 96, 'ipv6'); // NAT64: would reach any IPv4 address, private ones too
internal.addSubnet('64:ff9b:1::', 48, 'ipv6'); // local-use NAT64
internal.addSubnet('100::', 64, 'ipv6'); // discard
internal.addSubnet('2001::', 23, 'ipv6'); // IETF protocol assignments, Teredo (2001::/32) among them
internal.addSubnet('2001:db8::', 32, 'ipv6'); // documentation
internal.addSubnet('2002::', 16, 'ipv6'); // 6to4: embeds an IPv4 address
internal.addSubnet('fc00::', 7, 'ipv6'); // unique-local
internal.addSubnet('fe80::', 10, 'ipv6'); // link-local
internal.addSubnet('fec0::', 10, 'ipv6'); // site-local (deprecated)
internal.addSubnet('ff00::', 8, 'ipv6'); // multicast

const typeOf = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** Why an IP address must not be called back, or null when it may (loopback only if allowed). */
export function forbiddenAddress(address: string, allowLoopback: boolean): string | null {
  if (isIP(address) === 0) return 'is not an IP address';
  const type = typeOf(address);
  if (loopback.check(address, type)) return allowLoopback ? null : 'is a loopback address';
  if (internal.check(address, type)) return 'is a private, link-local, shared, reserved, multicast or transition address';
  return null;
}

const refuse = (field: string, message: string) =>
  new ApiError(ErrorCode.INVALID_REQUEST, `${field} ${message}`, {
    location: 'body',
    issues: [{ field, message }],
  });

/** Throws 400 INVALID_REQUEST naming the field unless the URL may be called back. */
export function checkCallbackUrl(url: string, allowInsecure: boolean, field = 'callback.url'): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse(field, 'must be an absolute URL');
  }
  // Credentials in the URL would be shown to the other party and kept in logs: the secret signs instead.
  if (parsed.username !== '' || parsed.password !== '') throw refuse(field, 'must not carry credentials (user:password@)');
  // WHATWG URL has already normalised IPv4 forms (0x7f.1, 2130706433) to dotted decimal.
  const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  const family = isIP(host);
  const isLoopback = host === 'localhost' || host.endsWith('.localhost') || (family !== 0 && loopback.check(host, typeOf(host)));
  if (isLoopback && allowInsecure) return;
  if (parsed.protocol !== 'https:') throw refuse(field, 'must use https');
  if (isLoopback || (family !== 0 && forbiddenAddress(host, false) !== null)) {
    throw refuse(field, 'must not point to a loopback, private or link-local address');
  }
}

/** The callback URL as the other party of the connection sees it: no query or fragment. */
export function callbackUrlForTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '';
  }
}
