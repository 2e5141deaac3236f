/**
 * The architecture rules in .dependency-cruiser.js bite. Each tree under test/fixtures/architecture/
 * is a miniature repository (domain/, machines/, rules/, workflows/, …): the project's own config is
 * cruised with the fixture as baseDir, so the rules see the same root-relative paths they see in the
 * real repository. Then the real repository is cruised exactly as `npm run lint:deps` does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { beforeAll, describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test/fixtures/architecture');
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** `depcruise <targets…> --config <file>` → the targets and the config file of `npm run lint:deps`. */
function lintDepsCommand(): { targets: string[]; config: string } {
  const words = (scripts['lint:deps'] ?? '').trim().split(/\s+/);
  expect(words[0], 'lint:deps runs depcruise').toBe('depcruise');
  const firstOption = words.findIndex((w) => w.startsWith('-'));
  const targets = words.slice(1, firstOption < 0 ? undefined : firstOption);
  const configAt = words.indexOf('--config');
  return { targets, config: configAt < 0 ? '.dependency-cruiser.js' : words[configAt + 1]! };
}

let options: ICruiseOptions;
let tsConfigFile: string;

beforeAll(async () => {
  options = await extractDepcruiseOptions(join(root, lintDepsCommand().config));
  tsConfigFile = join(root, options.tsConfig?.fileName ?? 'tsconfig.json');
});

async function cruiseAt(baseDir: string, targets: string[]): Promise<ICruiseResult> {
  const { output } = await cruise(
    targets,
    { ...options, baseDir, tsConfig: { fileName: tsConfigFile }, outputType: 'json' },
    {},
    { tsConfig: extractTSConfig(tsConfigFile) },
  );
  return JSON.parse(output as string) as ICruiseResult;
}

/** An npm module's resolved path (relative to baseDir) → its package name; anything else as is. */
const shortName = (path: string) => path.replace(/^(\.\.\/)*node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, '$2');

/**
 * One line per violation, e.g. `machines-imports-only-domain: machines/a.ts → workflows/b.ts`, or
 * for a cycle (reported once per cycle) `no-circular: a.ts → b.ts → a.ts`.
 */
const violationsOf = (result: ICruiseResult): string[] =>
  result.summary.violations
    .map((v) => `${v.rule.name}: ${[v.from, ...(v.cycle?.map((c) => c.name) ?? [v.to])].map(shortName).join(' → ')}`)
    .sort();

const cruiseFixture = (name: string) => cruiseAt(join(fixtures, name), ['.']);

describe('architecture rules (dependency-cruiser)', () => {
  test('a clean tree using every allowed kind of import has no violation', async () => {
    const result = await cruiseFixture('clean');
    expect(violationsOf(result)).toEqual([]);
    // Not vacuous: every file was found and resolved, type-only edges are seen as such.
    const sources = result.modules.filter((m) => !m.coreModule && !/node_modules/.test(m.source)).map((m) => m.source);
    expect(sources).toHaveLength(13);
    expect(result.modules.filter((m) => m.couldNotResolve)).toEqual([]);
    const workflow = result.modules.find((m) => m.source === 'workflows/workflow.ts')!;
    expect(workflow.dependencies.find((d) => d.resolved === 'activities/activity.ts')?.dependencyTypes).toContain('type-only');
  });

  test.each([
    ['upward-import', ['machines-imports-only-domain: machines/machine.ts → workflows/workflow.ts']],
    ['cycle', ['no-circular: domain/a.ts → domain/b.ts → domain/a.ts']],
    ['type-only-cycle', ['no-circular: rules/evaluator.ts → rules/explain.ts → rules/evaluator.ts']],
    // dependency-cruiser reports node:fs as fs
    ['node-builtin', ['sandbox-no-node-builtins: rules/hash.ts → crypto', 'sandbox-no-node-builtins: workflows/workflow.ts → fs']],
    ['activity-value-import', ['workflows-activities-type-only: workflows/workflow.ts → activities/activity.ts']],
    [
      'io-package',
      ['sandbox-no-io-packages: workflows/workflow.ts → @temporalio/envconfig', 'sandbox-no-io-packages: workflows/workflow.ts → kysely'],
    ],
    ['rules-loader', ['sandbox-not-to-rules-loader: workflows/workflow.ts → rules/loader.ts']],
    [
      'lower-to-upper',
      [
        'api-not-to-top-level: api/app.ts → runtime/config.ts',
        'db-imports-only-domain-rules-types: db/repository.ts → activities/activity.ts',
        'db-rules-type-only: db/repository.ts → rules/model.ts',
      ],
    ],
  ])('fixture %s is caught', async (name, expected) => {
    expect(violationsOf(await cruiseFixture(name))).toEqual(expected);
  });

  test('npm run lint runs eslint, then the same cruise as lint:deps', () => {
    expect(scripts.lint).toBe(`eslint . && ${scripts['lint:deps']}`);
  });

  // Fails while the tree has violations: the message lists them.
  test('the repository itself has no violation', async () => {
    const result = await cruiseAt(root, lintDepsCommand().targets);
    expect(result.modules.some((m) => m.source.startsWith('test/fixtures/architecture/'))).toBe(false);
    expect(violationsOf(result)).toEqual([]);
  });
});
