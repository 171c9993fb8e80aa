import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import importX from 'eslint-plugin-import-x';
import boundaries from 'eslint-plugin-boundaries';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { layerElements, layerPolicies } from './eslint.layers.mjs';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'bench/results/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() returns a promise the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Dependencies point one way (docs/architecture.md): each file is classified into a layer, and a layer may
    // import only the layers below it. import-x/no-cycle catches the cycles a layer may have inside itself.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX, boundaries },
    settings: {
      // import-x parses the imported files itself to follow cycles: tell it which parser reads TypeScript.
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'boundaries/elements': layerElements,
      'boundaries/root-path': import.meta.dirname,
      // eslint-plugin-boundaries resolves imports through the classic resolver setting.
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'boundaries/dependencies': ['error', { default: 'disallow', policies: layerPolicies }],
      'boundaries/no-unknown-files': 'error',
    },
  },
  {
    // A function in lib/ does one thing you can name: about 60 lines at most (npx tsx scripts/function-lengths.ts
    // lists the longest per stage module).
    files: ['lib/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] },
  },
  {
    // The record framer's over-limit scan (skipThrough) is one byte loop carrying quote state across chunks;
    // split into calls per byte it would cost the hot path, so it stays whole.
    files: ['lib/ingest/splitter.ts'],
    rules: { 'max-lines-per-function': 'off' },
  },
  {
    // Workflow code is replayed inside Temporal's deterministic sandbox: Node built-ins are not available there.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows must not import Node built-ins.' })),
          patterns: [
            { group: ['../activities/*', '!../activities/types'], message: 'Workflows see activities only as types.' },
          ],
        },
      ],
    },
  },
);
