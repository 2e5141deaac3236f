import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkCallbackUrl } from '../../api/callback-url.ts';
import { ApiError } from '../../api/errors.ts';
import { apiTestContext, call, seedCompany, type ApiTestContext } from './support.ts';

/** The refusal's field message, or undefined when the URL is accepted. */
function refusal(url: string, allowInsecure: boolean): string | undefined {
  try {
    checkCallbackUrl(url, allowInsecure);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const { code, details } = err as ApiError;
    expect(code).toBe('INVALID_REQUEST');
    const issue = (details as { issues: { field: string; message: string }[] }).issues[0]!;
    expect(issue.field).toBe('callback.url');
    return issue.message;
  }
}

describe('callback URLs', () => {
  test.each([
    'https://hooks.example.test/ccx',
    'https://8.8.8.8/ccx',
    'https://[2606:4700:4700::1111]/ccx',
    'https://172.32.0.1/ccx', // just outside 172.16/12
    'https://100.128.0.1/ccx', // just outside 100.64/10
  ])('%s is accepted', (url) => {
    expect(refusal(url, false)).toBeUndefined();
  });

  test.each([
    'https://127.0.0.1/ccx',
    'https://127.8.9.10/ccx',
    'https://0x7f.1/ccx', // 127.0.0.1 in another spelling
    'https://localhost/ccx',
    'https://LOCALHOST./ccx',
    'https://api.localhost/ccx',
    'https://[::1]/ccx',
    'https://10.1.2.3/ccx',
    'https://172.16.0.1/ccx',
    'https://172.31.255.255/ccx',
    'https://192.168.1.1/ccx',
    'https://169.254.169.254/latest/meta-data',
    'https://0.0.0.0/ccx',
    'https://[::]/ccx',
    'https://[fd12:3456::1]/ccx',
    'https://[fe80::1]/ccx',
    'https://[::ffff:10.0.0.1]/ccx',
    // issue 14: the ranges the delivery refuses are refused here too, when written as addresses
    'https://100.64.0.1/ccx',
    'https://198.18.0.1/ccx',
    'https://224.0.0.1/ccx',
    'https://[2001:db8::1]/ccx',
    'https://[64:ff9b::a00:1]/ccx',
    'https://[2002:a00:1::1]/ccx',
  ])('%s is refused', (url) => {
    expect(refusal(url, false)).toBe('must not point to a loopback, private or link-local address');
  });

  test('credentials in the URL are refused (the other party would see them)', () => {
    expect(refusal('https://user:pass@hooks.example.test/ccx', false)).toBe('must not carry credentials (user:password@)');
    expect(refusal('http://user@127.0.0.1:8080/ccx', true)).toBe('must not carry credentials (user:password@)');
  });

  test('plain http is refused', () => {
    expect(refusal('http://hooks.example.test/ccx', false)).toBe('must use https');
    expect(refusal('http://127.0.0.1:8080/ccx', false)).toBe('must use https');
  });

  test('allowInsecureCallbacks opens loopback only, over http or https', () => {
    for (const url of ['http://127.0.0.1:8080/cb', 'http://localhost:8080/cb', 'http://[::1]:8080/cb', 'https://localhost/cb']) {
      expect(refusal(url, true)).toBeUndefined();
    }
    expect(refusal('http://hooks.example.test/ccx', true)).toBe('must use https');
    expect(refusal('https://10.0.0.1/ccx', true)).toBe('must not point to a loopback, private or link-local address');
    expect(refusal('http://192.168.0.10/ccx', true)).toBe('must use https');
  });
});

describe('an invitation with a callback to a private host', () => {
  let ctx: ApiTestContext;
  beforeAll(async () => {
    ctx = await apiTestContext(); // allowInsecureCallbacks on: private hosts are refused anyway
  });
  afterAll(() => ctx.close());

  test('is 400 INVALID_REQUEST naming callback.url, and nothing is stored', async () => {
    const { clients } = await seedCompany(ctx, { moduleActive: true, clientNames: ['Morgenpost', 'Abendblatt'] });
    const [source, target] = [clients[0]!, clients[1]!];
    const res = await call(ctx.app, source.apiKey, 'POST', '/v1/connections', {
      targetClientId: target.id,
      offerAccess: true,
      callback: { url: 'https://192.168.178.1/ccx', secret: 'a-long-enough-callback-secret' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'INVALID_REQUEST', details: { issues: [{ field: 'callback.url' }] } });
    const rows = await ctx.db.selectFrom('connections').select('id').where('source_client_id', '=', source.id).execute();
    expect(rows).toEqual([]);
  });
});
