/**
 * The callback sender's guard against server-side request forgery, against a real HTTP receiver:
 * which addresses are refused, that the request goes to exactly the address that was checked (a
 * name our resolver alone knows arrives), once per attempt, and that redirects are not followed.
 * Also the pure parts of the dispatcher (what an answer means, the backoff) and key rotation.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { callbackUrlForTarget, forbiddenAddress } from '../../api/callback-url.ts';
import { decryptSecret, encryptSecret, keyIdOf, needsReencryption } from '../../api/secrets.ts';
import { callbackRetryDelayMs, judgeStatus } from '../../runtime/callback-dispatcher.ts';
import { CallbackSendError, postCallback, signatureHeader, type Resolve } from '../../runtime/callback-sender.ts';
import { startCallbackReceiver, type CallbackReceiver } from '../support/callback-receiver.ts';

let receiver: CallbackReceiver;
beforeAll(async () => {
  receiver = await startCallbackReceiver();
});
afterAll(() => receiver?.stop());

describe('addresses a callback may reach', () => {
  test.each([
    '127.0.0.1', '127.1.2.3', '::1', '0.0.0.0', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.127.255.254',
    '198.18.0.1', '198.19.255.255', '192.0.2.1', '224.0.0.1', '239.255.255.250', '255.255.255.255', '::', '::ffff:10.0.0.1', '::ffff:127.0.0.1',
    '64:ff9b::a00:1', '::ffff:0:a00:1', '2002:a00:1::1', '2001:0:4136:e378::1', '2001:db8::1', 'fe80::1', 'fc00::1', 'fd12::1', 'ff02::1',
  ])('%s is refused', (address) => {
    expect(forbiddenAddress(address, false)).not.toBeNull();
  });

  test.each(['93.184.216.34', '8.8.8.8', '100.128.0.1', '198.20.0.1', '2606:4700:4700::1111', '2a00:1450:4001::1'])('%s is allowed', (address) => {
    expect(forbiddenAddress(address, false)).toBeNull();
  });

  test('loopback only with insecure callbacks allowed; private networks never', () => {
    expect(forbiddenAddress('127.0.0.1', true)).toBeNull();
    expect(forbiddenAddress('::1', true)).toBeNull();
    expect(forbiddenAddress('10.0.0.1', true)).not.toBeNull();
    expect(forbiddenAddress('::ffff:192.168.0.1', true)).not.toBeNull();
  });

  test('the target sees the URL without query and fragment', () => {
    expect(callbackUrlForTarget('https://hooks.example.com/ccx/cb?token=s3cret#x')).toBe('https://hooks.example.com/ccx/cb');
  });
});

describe('postCallback', () => {
  const resolver = (table: Record<string, string[]>) => {
    const calls: string[] = [];
    const resolve: Resolve = async (host) => {
      calls.push(host);
      const addresses = table[host];
      if (!addresses) throw new Error(`ENOTFOUND ${host}`);
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
    return { resolve, calls };
  };
  const send = (url: string, resolve: Resolve, allowInsecure = true) =>
    postCallback({ url, body: '{"a":1}', headers: { 'content-type': 'application/json' }, allowInsecure, resolve });

  test('connects to exactly the address it resolved and checked, resolving once', async () => {
    const { resolve, calls } = resolver({ 'receiver.example.test': ['127.0.0.1'] });
    const before = receiver.received.length;
    expect(await send(`http://receiver.example.test:${receiver.port}/pinned`, resolve)).toBe(200);
    expect(calls).toEqual(['receiver.example.test']);
    const got = receiver.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ path: '/pinned', body: '{"a":1}' });
    expect(got[0]!.headers.host).toBe(`receiver.example.test:${receiver.port}`);
  });

  test('a name resolving to loopback or a private address is refused before any connection when insecure callbacks are off', async () => {
    const { resolve } = resolver({ 'loopback.example.test': ['127.0.0.1'], 'private.example.test': ['10.0.0.1'], 'mixed.example.test': ['93.184.216.34', '10.0.0.1'] });
    const before = receiver.received.length;
    await expect(send(`https://loopback.example.test:${receiver.port}/x`, resolve, false)).rejects.toThrow(/refused: loopback\.example\.test resolves to 127\.0\.0\.1/);
    await expect(send('https://private.example.test/x', resolve, false)).rejects.toThrow(/refused: private\.example\.test resolves to 10\.0\.0\.1/);
    await expect(send('https://mixed.example.test/x', resolve, false)).rejects.toThrow(/resolves to 10\.0\.0\.1/);
    await expect(send(`http://127.0.0.1:${receiver.port}/x`, resolve, false)).rejects.toThrow(CallbackSendError);
    expect(receiver.received.length).toBe(before);
  });

  test('plain http never leaves loopback, even with insecure callbacks allowed', async () => {
    const { resolve } = resolver({ 'public.example.test': ['93.184.216.34'] });
    await expect(send('http://public.example.test/x', resolve)).rejects.toThrow(/plain http/);
  });

  test('a redirect is answered as its status, not followed', async () => {
    receiver.answer((r) => (r.path === '/moved' ? 302 : 200));
    try {
      const before = receiver.received.length;
      expect(await send(`http://127.0.0.1:${receiver.port}/moved`, resolver({}).resolve)).toBe(302);
      expect(receiver.received.length).toBe(before + 1);
    } finally {
      receiver.answer(() => 200);
    }
  });
});

describe('https to the pinned address', () => {
  // A self-signed certificate for receiver.example.test (test/fixtures/tls, valid for a century).
  const tls = (file: string) => readFileSync(path.join(import.meta.dirname, '../fixtures/tls', file));
  const names = (table: Record<string, string>): Resolve => async (host) => (table[host] ? [{ address: table[host]!, family: 4 }] : []);

  test('the certificate is checked against the URL\'s name while the socket goes to the address that was checked', async () => {
    const seen: Array<{ host?: string; servername?: string }> = [];
    const server = https.createServer({ key: tls('receiver.key'), cert: tls('receiver.crt') }, (req, res) => {
      seen.push({ host: req.headers.host, servername: (req.socket as import('node:tls').TLSSocket).servername || undefined });
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const resolve = names({ 'receiver.example.test': '127.0.0.1', 'other.example.test': '127.0.0.1' });
      const send = (host: string) => postCallback({ url: `https://${host}:${port}/tls`, body: '{}', headers: {}, allowInsecure: true, resolve, ca: tls('receiver.crt') });
      expect(await send('receiver.example.test')).toBe(204);
      expect(seen).toEqual([{ host: `receiver.example.test:${port}`, servername: 'receiver.example.test' }]);
      // The same address under a name the certificate does not carry: refused by TLS, nothing arrives.
      await expect(send('other.example.test')).rejects.toThrow(/altnames|certificate/i);
      expect(seen).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('one deadline for the whole attempt', () => {
  test('a receiver answering byte by byte is cut off at the deadline, not kept alive by each byte', async () => {
    // Headers at once, then a byte every 100 ms for ever: an idle timeout alone would never fire.
    const drips = new Set<NodeJS.Timeout>();
    const slow = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write('.'), 100);
        drips.add(timer);
        res.on('close', () => clearInterval(timer));
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = slow.address() as AddressInfo;
      const started = performance.now();
      const attempt = postCallback({ url: `http://127.0.0.1:${port}/drip`, body: '{}', headers: {}, allowInsecure: true, timeoutMs: 800 });
      await expect(attempt).rejects.toThrow(/no complete answer within 800 ms/);
      // Ended by the deadline, long before the test's own timeout (never a timing figure asserted).
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      for (const timer of drips) clearInterval(timer);
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  test('a resolver that never answers ends the attempt at the deadline', async () => {
    const never: Resolve = () => new Promise(() => {});
    await expect(postCallback({ url: 'https://hangs.example.test/x', body: '{}', headers: {}, allowInsecure: false, resolve: never, timeoutMs: 300 }))
      .rejects.toThrow(/no complete answer within 300 ms/);
  });
});

describe('dispatcher decisions', () => {
  test('2xx acknowledges, 4xx but 408/429 fails for good, the rest is retried', () => {
    expect([200, 202, 204].map(judgeStatus)).toEqual(['delivered', 'delivered', 'delivered']);
    expect([400, 401, 404, 410, 422].map(judgeStatus)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
    expect([408, 429, 500, 503, 301, 302, 0].map(judgeStatus)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry', 'retry', 'retry']);
  });

  test('the first retry within seconds, doubling up to an hour', () => {
    const mid = () => 0.5;
    expect(callbackRetryDelayMs(1, mid)).toBe(2000);
    expect(callbackRetryDelayMs(2, mid)).toBe(4000);
    expect(callbackRetryDelayMs(30, mid)).toBe(3_600_000);
  });

  test('the signature is HMAC-SHA256 over "<t>.<body>"', () => {
    expect(signatureHeader('secret-secret-16', 1700000000, '{}')).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(signatureHeader('secret-secret-16', 1700000000, '{}')).not.toBe(signatureHeader('secret-secret-16', 1700000001, '{}'));
  });
});

describe('key rotation', () => {
  test('the stored text names its key; a previous key still opens it until it is re-encrypted', () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const stored = encryptSecret(oldKey, 'top secret value');
    expect(stored.startsWith(`v2.${keyIdOf(oldKey)}.`)).toBe(true);
    const ring = { current: newKey, previous: [oldKey] };
    expect(decryptSecret(ring, stored)).toBe('top secret value');
    expect(needsReencryption(ring, stored)).toBe(true);
    const resealed = encryptSecret(newKey, decryptSecret(ring, stored));
    expect(needsReencryption(ring, resealed)).toBe(false);
    expect(() => decryptSecret({ current: newKey, previous: [] }, stored)).toThrow(/not among/);
  });

  test('text of the first format (no key id) opens with any key of the ring', () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const [, , iv, tag, ciphertext] = encryptSecret(oldKey, 'legacy').split('.');
    const v1 = ['v1', iv, tag, ciphertext].join('.');
    expect(decryptSecret({ current: newKey, previous: [oldKey] }, v1)).toBe('legacy');
    expect(needsReencryption({ current: newKey, previous: [oldKey] }, v1)).toBe(true);
  });
});
