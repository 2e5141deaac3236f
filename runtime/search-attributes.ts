import type { Connection } from '@temporalio/client';
import { searchAttributeDefinitions } from '../temporal.config.ts';

/**
 * The dev server registers `--search-attribute`s shortly after its port opens; a workflow started
 * before that fails. Poll until every attribute is listed (or give up after `timeoutMs`).
 */
export async function waitForSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string, timeoutMs = 30_000): Promise<void> {
  const wanted = Object.keys(searchAttributeDefinitions);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await connection.operatorService.listSearchAttributes({ namespace }).catch(() => undefined);
    const have = new Set(Object.keys(res?.customAttributes ?? {}));
    const missing = wanted.filter((name) => !have.has(name));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`search attributes not registered: ${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
