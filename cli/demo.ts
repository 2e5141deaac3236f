/**
 * `ccx demo`: walks a running stack through the connection lifecycle over plain HTTP, the way
 * another system would — company with the module, two clients, invite, accept, block, a refused
 * unblock, unblock, end, invite again. Needs CCX_OPERATOR_KEY (or --key) and the API on PORT.
 */
interface Step {
  method: string;
  path: string;
  key: string;
  body?: unknown;
}

export async function runDemo(baseUrl: string, operatorKey: string, log = console.log): Promise<void> {
  const send = async ({ method, path, key, body }: Step, expected: number) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    log(`${method} ${path} → ${res.status}${json?.status ? ` (${json.status}, v${json.version})` : json?.error ? ` ${json.error.code}` : ''}`);
    if (res.status !== expected) throw new Error(`expected ${expected}, got ${res.status}: ${text}`);
    return json;
  };

  const company = await send({ method: 'POST', path: '/v1/contracting-companies', key: operatorKey, body: { name: 'Nordverlag' } }, 201);
  await send({ method: 'PUT', path: `/v1/contracting-companies/${company.id}/modules/CROSS_CLIENT_CONNECTIONS`, key: operatorKey }, 204);
  const client = (name: string, language: string) =>
    send({ method: 'POST', path: '/v1/clients', key: operatorKey, body: { contractingCompanyId: company.id, name, email: `${name.toLowerCase()}@example.test`, language } }, 201);
  const a = await client('Morgenpost', 'de');
  const b = await client('Abendblatt', 'en');
  const A = a.apiKey as string;
  const B = b.apiKey as string;

  const conn = await send({ method: 'POST', path: '/v1/connections', key: A, body: { targetClientId: b.client.id, offerAccess: true } }, 201);
  const url = `/v1/connections/${conn.id}`;
  await send({ method: 'POST', path: `${url}/accept`, key: B }, 200);
  await send({ method: 'POST', path: `${url}/block`, key: B }, 200);
  await send({ method: 'POST', path: `${url}/unblock`, key: A }, 403);
  await send({ method: 'POST', path: `${url}/unblock`, key: B }, 200);
  await send({ method: 'POST', path: `${url}/end`, key: A }, 200);
  const again = await send({ method: 'POST', path: '/v1/connections', key: A, body: { targetClientId: b.client.id, offerAccess: true } }, 201);
  await send({ method: 'POST', path: `/v1/connections/${again.id}/accept`, key: B }, 200);
  log(`\nfirst connection ${conn.id} (ended), second ${again.id} (active)`);
  log(`workflow id connection:${a.client.id}:${b.client.id}`);
}
