// Architecture rules, checked by dependency-cruiser (`npm run lint:deps`, part of `npm run lint`).
//
// Layers, bottom up:  domain → machines → rules → workflows → activities / db → api → runtime, cli,
// scripts, bench, test. Paths below are relative to the repository root (the cruise's baseDir), so
// test/architecture.test.ts can run these very rules against the fixture trees under
// test/fixtures/architecture/ by cruising with baseDir set to a fixture root.
//
// Dependency types used below: 'local' = a project file (resolved, not in node_modules), 'core' = a
// Node built-in, 'type-only' = `import type …` / `export type … from` / `import { type A, type B }`,
// 'type-import' = `import('./x.ts').T` in a type position. With tsPreCompilationDeps: true
// dependency-cruiser keeps the type-only edges (TypeScript erases them), so they count for the
// layering and cycle rules, and value imports can be told apart from type imports.

/** A regular expression that matches files under any of the given root folders. */
const under = (...folders) => `^(${folders.join('|')})/`;

// Code that ends up in Temporal's deterministic workflow sandbox: the workflows and everything they
// may import at runtime. rules/loader.ts (YAML + node:crypto) is the one non-sandbox rules file.
const SANDBOX = under('workflows', 'domain', 'machines', 'rules');
const RULES_LOADER = '^rules/loader\\.ts$';
// temporal.config.ts: imported by workflows; the workflow bundler excludes @temporalio/envconfig.
const TEMPORAL_CONFIG = '^temporal\\.config\\.ts$';
// npm packages that do I/O (or only work outside the sandbox).
const IO_PACKAGES = `(^|/)node_modules/(${[
  'pg',
  'pg-[^/]+',
  'kysely',
  'nodemailer',
  'smtp-server',
  'fastify',
  'fastify-[^/]+',
  '@fastify/[^/]+',
  '@electric-sql/[^/]+',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/envconfig',
  '@temporalio/testing',
].join('|')})/`;
const TYPES_ONLY = ['type-only', 'type-import'];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    // ── everywhere ────────────────────────────────────────────────────────────────────────────
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Circular dependency. Cycles make load order fragile (TDZ errors on import), blur which ' +
        'layer owns what and defeat the layering below. Type-only imports count too: a type cycle ' +
        'still couples the modules. Break it by moving the shared part down a layer (usually domain/).',
      from: { pathNot: '(^|/)node_modules/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        'This import does not resolve to a file. Besides being broken, an unresolved import is ' +
        'invisible to every layering rule here, so a typo or a moved file could hide a violation.',
      from: {},
      to: { couldNotResolve: true },
    },

    // ── pure layers: domain, machines, rules ─────────────────────────────────────────────────
    {
      name: 'domain-imports-only-domain',
      severity: 'error',
      comment:
        'domain/ is the pure vocabulary (types, constants) every layer shares: it sits at the ' +
        'bottom and imports no project file outside domain/ (nothing from workflows, activities, ' +
        'db, api, runtime, cli — nor machines or rules).',
      from: { path: under('domain') },
      to: { dependencyTypes: ['local'], pathNot: under('domain') },
    },
    {
      name: 'machines-imports-only-domain',
      severity: 'error',
      comment:
        'machines/ holds pure XState machines and command declarations: it may import domain/ ' +
        'only (nothing from rules, workflows, activities, db, api, runtime, cli).',
      from: { path: under('machines') },
      to: { dependencyTypes: ['local'], pathNot: under('domain', 'machines') },
    },
    {
      name: 'machines-npm-only-xstate-zod',
      severity: 'error',
      comment:
        'machines/ stays pure and sandbox-safe: its only npm dependencies are xstate and zod.',
      from: { path: under('machines') },
      to: { path: '(^|/)node_modules/', pathNot: '(^|/)node_modules/(xstate|zod)/' },
    },
    {
      name: 'rules-imports-only-domain-machines',
      severity: 'error',
      comment:
        'rules/ is the pure rules language: it may import domain/ and machines/ only (nothing ' +
        'from workflows, activities, db, api, runtime, cli). This includes rules/loader.ts, which ' +
        'is not sandbox code but is still free of the project I/O layers.',
      from: { path: under('rules') },
      to: { dependencyTypes: ['local'], pathNot: under('domain', 'machines', 'rules') },
    },

    // ── workflows ────────────────────────────────────────────────────────────────────────────
    {
      name: 'workflows-imports-only-sandbox-layers',
      severity: 'error',
      comment:
        'workflows/ may import domain/, machines/, rules/ and temporal.config.ts (plus activities/ ' +
        'as types, see workflows-activities-type-only) — never db, api, runtime, cli, scripts, ' +
        'bench or test: workflow code runs in the deterministic sandbox and does I/O via activities.',
      from: { path: under('workflows') },
      to: {
        dependencyTypes: ['local'],
        pathNot: [under('domain', 'machines', 'rules', 'workflows', 'activities'), TEMPORAL_CONFIG],
      },
    },
    {
      name: 'workflows-activities-type-only',
      severity: 'error',
      comment:
        'Workflows reach activities through proxyActivities<typeof …>(): import activities with ' +
        '`import type` only. A value import drags the activity implementation (db, mail, node ' +
        'built-ins) into the workflow bundle.',
      from: { path: under('workflows') },
      to: { path: under('activities'), dependencyTypesNot: TYPES_ONLY },
    },

    // ── the workflow sandbox: workflows and what they import at runtime ──────────────────────
    {
      name: 'sandbox-no-node-builtins',
      severity: 'error',
      comment:
        'Workflow code (workflows/ and the domain/, machines/, rules/ files it imports) runs in ' +
        "Temporal's deterministic sandbox: no Node built-ins (node:*, fs, crypto, …). rules/loader.ts " +
        'is the exception: it is never bundled into workflows (see sandbox-not-to-rules-loader).',
      from: { path: SANDBOX, pathNot: RULES_LOADER },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'sandbox-no-io-packages',
      severity: 'error',
      comment:
        'No I/O libraries in workflow code (pg, kysely, nodemailer, fastify, @temporalio/client, ' +
        '/worker, /activity, /envconfig, …): do I/O in an activity. temporal.config.ts may use ' +
        '@temporalio/envconfig because the workflow bundler excludes it; workflows may not.',
      from: { path: SANDBOX, pathNot: RULES_LOADER },
      to: { path: IO_PACKAGES },
    },
    {
      name: 'sandbox-not-to-rules-loader',
      severity: 'error',
      comment:
        'rules/loader.ts uses YAML and node:crypto and runs in the API and CLI only; workflows get ' +
        'its JSON output. Sandbox code (workflows/, and the rules/ files workflows import) must not ' +
        'import it at runtime; `import type` is fine (erased).',
      from: { path: SANDBOX, pathNot: RULES_LOADER },
      to: { path: RULES_LOADER, dependencyTypesNot: TYPES_ONLY },
    },

    // ── activities, db, api ──────────────────────────────────────────────────────────────────
    {
      name: 'activities-imports-only-lower-layers',
      severity: 'error',
      comment:
        'activities/ may import domain/, machines/, rules/, db/, workflows/ (and temporal.config.ts) ' +
        '— not api, runtime, cli, scripts, bench or test: those sit above and wire activities up.',
      from: { path: under('activities') },
      to: {
        dependencyTypes: ['local'],
        pathNot: [under('domain', 'machines', 'rules', 'db', 'workflows', 'activities'), TEMPORAL_CONFIG],
      },
    },
    {
      name: 'db-imports-only-domain-rules-types',
      severity: 'error',
      comment:
        'db/ (repositories, migrations) may import domain/ and rules/ types only — nothing from ' +
        'machines, workflows, activities, api, runtime, cli: the persistence layer must not know ' +
        'who calls it.',
      from: { path: under('db') },
      to: { dependencyTypes: ['local'], pathNot: under('domain', 'rules', 'db') },
    },
    {
      name: 'db-rules-type-only',
      severity: 'error',
      comment:
        'db/ stores compiled rule sets but does not run the rules language: import rules/ with ' +
        '`import type` only.',
      from: { path: under('db') },
      to: { path: under('rules'), dependencyTypesNot: TYPES_ONLY },
    },
    {
      name: 'api-not-to-top-level',
      severity: 'error',
      comment:
        'api/ may import every layer below it, but not runtime/ or cli/ (which start and wire the ' +
        'API up), nor scripts/, bench/ or test/.',
      from: { path: under('api') },
      to: { path: under('runtime', 'cli', 'scripts', 'bench', 'test') },
    },
  ],
  options: {
    // Fixture trees with deliberate violations, for test/architecture.test.ts.
    exclude: { path: '^test/fixtures/architecture/' },
    doNotFollow: { path: '(^|/)node_modules/' },
    moduleSystems: ['es6', 'cjs'],
    // true: keep dependencies TypeScript erases (import type …), marked 'type-only', so they count
    // for cycles and layering while rules can still tell type imports from value imports.
    tsPreCompilationDeps: true,
    // Imports carry explicit .ts extensions (allowImportingTsExtensions in tsconfig.json), so they
    // resolve as written; tsconfig.json is read for TypeScript-aware resolution (paths/baseUrl, none
    // today) and compiler options.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
