import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { searchAttributeDefinitions } from '../temporal.config.ts';
import type { Config } from './config.ts';
import { waitForSearchAttributes } from './search-attributes.ts';

/** Registers the product's search attributes on a real cluster's namespace (idempotent). */
export async function setupTemporal(config: Config): Promise<void> {
  const connection = await Connection.connect({ ...(config.temporal.connectionOptions as object) });
  const { namespace } = config.temporal;
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.entries(searchAttributeDefinitions).filter(([name]) => !(name in existing.customAttributes));
  if (missing.length > 0) {
    const { IndexedValueType } = proto.temporal.api.enums.v1;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map(([name, type]) => [name, type === 'Bool' ? IndexedValueType.INDEXED_VALUE_TYPE_BOOL : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  }
  await waitForSearchAttributes(connection, namespace);
  console.log(`search attributes registered on ${namespace}: ${Object.keys(searchAttributeDefinitions).join(', ')}`);
  await connection.close();
}
