/**
 * The evaluator inside Temporal's deterministic workflow sandbox: bundled without Node
 * built-ins or YAML, run by a real worker on the test run's dev server, and replayed.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { createEvaluator } from '../../rules/evaluator.ts';
import type { ProbeInput } from './fixtures/rules-probe.workflow.ts';
import { client, compile, defaultRulesSource, invitation, payoutFacts } from './support.ts';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}

describe('the evaluator in the workflow sandbox', () => {
  let code: string;
  let nativeConnection: NativeConnection;
  let temporal: Client;

  beforeAll(async () => {
    const workflowsPath = fileURLToPath(new URL('./fixtures/rules-probe.workflow.ts', import.meta.url));
    ({ code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') }));
    nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
    temporal = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }), namespace: inject('temporalNamespace') });
  });

  afterAll(async () => {
    await nativeConnection?.close();
    await temporal?.connection.close();
  });

  test('bundles without YAML, the rule-set loader or Node built-ins', () => {
    expect(code).not.toContain('parseDocument');
    expect(code).not.toContain('must be a CEL expression, not'); // rules/schema.ts: loading is the API's job
    expect(code).not.toMatch(/require\(["'](node:)?(fs|crypto|net)["']\)/);
  });

  test('gives the same verdicts as outside, and replays deterministically', async () => {
    const ruleSet = compile(defaultRulesSource());
    const input: ProbeInput = {
      ruleSet,
      invite: invitation({ target: client('TARGET', 'OTHER') }),
      payout: payoutFacts(1999),
    };
    const taskQueue = `rules-${randomUUID()}`;
    const worker = await Worker.create({ connection: nativeConnection, namespace: inject('temporalNamespace'), taskQueue, workflowBundle: { code } });
    const workflowId = `rules-probe-${randomUUID()}`;
    const result = await worker.runUntil(temporal.workflow.execute('rulesProbe', { taskQueue, workflowId, args: [input] }));

    const outside = createEvaluator(ruleSet);
    expect(result).toEqual({
      guard: outside.checkGuards('connection.invite', input.invite),
      ttl: outside.invitationTtlMs(),
      mail: outside.notification('connection.block'),
      payout: outside.payoutShare(input.payout),
    });
    expect(result).toMatchObject({ guard: { allowed: false, rule: 'callback-required' } });

    const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: { code } }, history, workflowId);
  });
});
