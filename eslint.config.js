// Lint: type-aware rules everywhere, plus the workflow-sandbox rules for workflows/ (and what it
// imports: domain/, machines/, rules/): no Node built-ins, no I/O libraries, no floating promises.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'os', 'child_process', 'url', 'util', 'stream', 'events', 'timers', 'worker_threads'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tools/**', 'scratch/**', 'dist/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts', 'machines/**/*.ts', 'rules/**/*.ts'],
    // The loader runs in the API and CLI only (YAML, hashing); workflows get its JSON output.
    ignores: ['rules/loader.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'Workflow code runs in a deterministic sandbox: no Node built-ins.' },
            { group: ['pg', 'kysely', 'nodemailer', 'fastify', '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '../db/*', '../api/*', '../runtime/*'], message: 'No I/O in workflow code: use an activity.' },
            { group: ['../activities/*'], allowTypeImports: true, message: 'Import activities as types only (proxyActivities).' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' }, { name: 'setInterval', message: 'Use sleep() in a loop.' }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
