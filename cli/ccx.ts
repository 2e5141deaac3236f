/**
 * `ccx` — the command line (docs/architecture.md "HTTP API"). Same code paths as the API and the worker.
 */
import { loadConfig } from '../runtime/config.ts';
import { startStack } from '../runtime/stack.ts';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { setupTemporal } from '../runtime/temporal-setup.ts';
import { runDemo } from './demo.ts';
import { payoutsCommand } from './payouts.ts';
import { rulesCommand } from './rules.ts';
import { writeDiagrams } from './diagrams.ts';

const usage = `usage: ccx <command>
  start            the whole stack (embedded Temporal, Postgres and SMTP unless configured)
  worker           a worker only (needs TEMPORAL_ADDRESS or a running dev server, DATABASE_URL)
  api              the HTTP API only
  migrate          apply database migrations to DATABASE_URL
  temporal setup   register the search attributes on TEMPORAL_ADDRESS's namespace
  rules check <file> | explain <event> <facts.json> [--rules file] | preview <file> | diff <a> <b> | publish <file> [--preview id] | activate <version> | upgrade <workflowId|--all>
  payouts export --client <clientId> [--type T] [--paid-status S] [--connected-client-id C] [--from ISO] [--to ISO] [--out file]  the payout list as CSV (needs DATABASE_URL)
  demo [--key K] [--url U]  drive a running stack through connection, cart, purchase, refund, renewal and payouts with the typed client (key: --key or CCX_OPERATOR_KEY)
  diagrams [--out dir] [--rules file]  write the state machines as Mermaid and SVG, rules and mails as the rule set routes them (default docs/diagrams)`;

async function main(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  const config = loadConfig();
  switch (command) {
    case 'start':
    case 'worker':
    case 'api': {
      const signalled = waitForSignal(); // before booting: a SIGTERM during the boot still stops cleanly
      const stack = await startStack(config, { api: command !== 'worker', worker: command !== 'api' });
      await signalled;
      await stack.stop();
      return 0;
    }
    case 'migrate': {
      if (!config.databaseUrl) throw new Error('DATABASE_URL is not set');
      const handle = openDatabase(config.databaseUrl);
      await migrateToLatest(handle.db);
      await handle.close();
      console.log('migrations applied');
      return 0;
    }
    case 'rules':
      return rulesCommand(config, argv.slice(1));
    case 'payouts':
      return payoutsCommand(config, argv.slice(1));
    case 'demo': {
      const flag = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
      const operatorKey = flag('--key') ?? config.operatorKey;
      if (!operatorKey) throw new Error('pass the operator key of the running stack: npm run demo -- --key <key> (or set CCX_OPERATOR_KEY)');
      await runDemo({
        baseUrl: flag('--url') ?? process.env.CCX_API_URL ?? `http://127.0.0.1:${config.port}`,
        operatorKey,
        // The embedded dev server's UI unless the stack runs against a Temporal of its own.
        temporalUi: process.env.CCX_TEMPORAL_UI_URL || (config.temporal.address ? undefined : `http://127.0.0.1:${config.temporal.devServerPort + 1000}`),
        namespace: config.temporal.namespace,
      });
      return 0;
    }
    case 'diagrams': {
      const flag = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
      for (const file of await writeDiagrams(flag('--out') ?? 'docs/diagrams', flag('--rules'))) console.log(`wrote ${file}`);
      return 0;
    }
    case 'temporal':
      if (sub !== 'setup') break;
      await setupTemporal(config);
      return 0;
  }
  console.error(usage);
  return 2;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
