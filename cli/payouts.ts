/**
 * `ccx payouts export --client <clientId> [filters] [--out file]`: the caller's payout rows as
 * CSV — the very generator behind `GET /v1/payouts.csv` (api/payout.service.ts), streamed page by
 * page to the file or stdout. Needs DATABASE_URL.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { openDatabase } from '../db/connect.ts';
import { PayoutCsvQuery } from '../api/payout.schemas.ts';
import { payoutCsvStream } from '../api/payout.service.ts';
import type { Config } from '../runtime/config.ts';

const FILTER_FLAGS = { '--type': 'type', '--paid-status': 'paidStatus', '--connected-client-id': 'connectedClientId', '--from': 'from', '--to': 'to' } as const;

function usage(): number {
  console.error(`usage: ccx payouts export --client <clientId> [--type PAYMENT|REFUND|LOSS] [--paid-status OPEN|PAID]
                          [--connected-client-id <other party>] [--from <ISO>] [--to <ISO>] [--out <file>]   (needs DATABASE_URL)`);
  return 2;
}

export async function payoutsCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'export' || rest.length % 2 !== 0) return usage();
  let client: string | undefined;
  let out: string | undefined;
  const filters: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i]!, rest[i + 1]!];
    if (flag === '--client') client = value;
    else if (flag === '--out') out = value;
    else if (Object.hasOwn(FILTER_FLAGS, flag)) filters[FILTER_FLAGS[flag as keyof typeof FILTER_FLAGS]] = value;
    else return usage();
  }
  if (!client) return usage();
  const parsed = PayoutCsvQuery.safeParse(filters);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`${issue.path.join('.')}: ${issue.message}`);
    return 2;
  }
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set (the embedded database belongs to a running `ccx start`: use GET /v1/payouts.csv)');
  const handle = openDatabase(config.databaseUrl);
  try {
    await pipeline(payoutCsvStream(handle.db, client, parsed.data), out ? createWriteStream(out) : process.stdout);
    if (out) console.error(`wrote ${out}`);
    return 0;
  } finally {
    await handle.close();
  }
}
