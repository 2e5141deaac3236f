import {
  ApplicationFailure,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fromTemporalError, statusByCode } from '../../api/errors.ts';
import { ErrorCode } from '../../domain/errors.ts';
import { refusalFailure } from '../../workflows/errors.ts';
import { apiTestContext, bearer, call, seedCompany, type ApiTestContext } from './support.ts';

let ctx: ApiTestContext;
let clientKey: string;
beforeAll(async () => {
  ctx = await apiTestContext();
  clientKey = (await seedCompany(ctx, { moduleActive: false, clientNames: ['Morgenpost'] })).clients[0]!.apiKey;
});
afterAll(() => ctx.close());

const post = (payload: string, contentType = 'application/json') =>
  ctx.app.inject({ method: 'POST', url: '/v1/connections', headers: { ...bearer(clientKey), 'content-type': contentType }, payload });

describe('HTTP errors', () => {
  test('malformed JSON is 400 INVALID_REQUEST', async () => {
    const res = await post('{"targetClientId": ');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_REQUEST');
  });

  test('a schema violation is 400 with details naming the field', async () => {
    const res = await post(JSON.stringify({ targetClientId: 'ABC', offerAccess: 'yes' }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'INVALID_REQUEST',
      details: { location: 'body', issues: [{ field: 'offerAccess', message: expect.any(String) }] },
    });
  });

  test('nested fields and unknown fields are named too', async () => {
    const res = await post(JSON.stringify({ targetClientId: 'ABC', offerAccess: true, callback: { url: 'nope' }, color: 'red' }));
    const fields = res.json().error.details.issues.map((i: { field: string }) => i.field);
    expect(fields.sort()).toEqual(['callback.secret', 'callback.url', 'color']);
  });

  test('a body over 1 MiB is 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await post(JSON.stringify({ targetClientId: 'x'.repeat(1024 * 1024), offerAccess: true }));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  test('a body that is not JSON is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await post('targetClientId=ABC', 'application/x-www-form-urlencoded');
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await post('hello', 'text/plain')).statusCode).toBe(415);
  });

  test('an unknown route is 404 NOT_FOUND, with or without a key', async () => {
    for (const res of [
      await call(ctx.app, undefined, 'GET', '/v1/nothing-here'),
      await call(ctx.app, clientKey, 'POST', '/v1/connections/x/frobnicate'),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
  });

  test('an empty JSON body counts as no body for commands without one', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/connections/00000000-0000-7000-8000-000000000000/accept',
      headers: { ...bearer(clientKey), 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(404); // reached the route: the connection is not there
  });

  test('a connection id that is no UUID is simply not found', async () => {
    const res = await call(ctx.app, clientKey, 'GET', '/v1/connections/not-a-uuid');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  test('a bad list query is 400 naming the parameter', async () => {
    const res = await call(ctx.app, clientKey, 'GET', '/v1/connections?limit=500');
    expect(res.json().error.details.issues[0].field).toBe('limit');
    const cursor = await call(ctx.app, clientKey, 'GET', '/v1/connections?cursor=garbage');
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().error.details.issues[0].field).toBe('cursor');
  });
});

describe('Temporal errors', () => {
  test('every error code has a status', () => {
    for (const code of Object.values(ErrorCode)) expect(statusByCode[code]).toBeGreaterThanOrEqual(400);
  });

  test('an ApplicationFailure from an update keeps its code, message and details', () => {
    const failure = refusalFailure({ code: ErrorCode.RULE_REJECTED, message: 'no', details: { rule: 'r1' } });
    const mapped = fromTemporalError(new WorkflowUpdateFailedError('update failed', failure));
    expect(mapped).toMatchObject({ statusCode: 422, code: 'RULE_REJECTED', message: 'no', details: { rule: 'r1' } });
    expect(fromTemporalError(new WorkflowUpdateFailedError('x', ApplicationFailure.nonRetryable('who?', 'FORBIDDEN_ACTOR')))?.statusCode).toBe(403);
  });

  test('an ApplicationFailure type outside the table is a 500, not a refusal', () => {
    const mapped = fromTemporalError(new WorkflowUpdateFailedError('x', ApplicationFailure.nonRetryable('boom', 'TypeError')));
    expect(mapped?.statusCode).toBe(500);
  });

  test('an already started connection workflow is CONNECTION_EXISTS', () => {
    const mapped = fromTemporalError(new WorkflowExecutionAlreadyStartedError('started', 'connection:A:B', 'connectionWorkflow'));
    expect(mapped).toMatchObject({ statusCode: 409, code: 'CONNECTION_EXISTS' });
  });

  test('an update to a closed run is INVALID_TRANSITION', () => {
    const mapped = fromTemporalError(new WorkflowNotFoundError('workflow execution already completed', 'connection:A:B', undefined));
    expect(mapped).toMatchObject({ statusCode: 409, code: 'INVALID_TRANSITION' });
  });

  test('a deadline or an unreachable server is 503 UNAVAILABLE: outcome unknown', () => {
    const grpc = (code: number) => Object.assign(new Error('grpc'), { code, details: 'x', metadata: {} });
    for (const err of [
      new WorkflowUpdateRPCTimeoutOrCancelledError('timeout', { cause: grpc(4) }),
      new ServiceError('Failed to start Workflow', { cause: grpc(14) }),
      grpc(4),
      // The run closed while our accepted update was in flight.
      new WorkflowUpdateFailedError('x', ApplicationFailure.nonRetryable('completed before the update', 'AcceptedUpdateCompletedWorkflow')),
    ]) {
      expect(fromTemporalError(err)).toMatchObject({ statusCode: 503, code: 'UNAVAILABLE', message: expect.stringContaining('Idempotency-Key') });
    }
  });
});
