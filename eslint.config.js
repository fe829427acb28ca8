import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const PRODUCT_MUST_NOT_IMPORT_SANDBOX = {
  group: ['**/sandbox', '**/sandbox/**'],
  message: 'src/ is the product: it must not import the sandbox (simulators, emulators, demo seeding).',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', '.cache/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      // Activities and handlers are async by contract even when their body is synchronous.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The product never depends on the simulators, emulators and demo seeding: they are not built
    // into dist/ nor shipped in the image.
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [PRODUCT_MUST_NOT_IMPORT_SANDBOX] }] },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node builtins, no side-effecting
    // modules, and activities are referenced by type only.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)].map((name) => ({
            name,
            message: 'Workflow code must not use Node builtins (it runs in the deterministic sandbox).',
          })),
          patterns: [
            PRODUCT_MUST_NOT_IMPORT_SANDBOX,
            {
              group: ['**/activities/**', '**/activities', '**/dynatrace/**', '**/aws/**', '**/secrets/**'],
              allowTypeImports: true,
              message: 'Workflows import only types from activities and clients.',
            },
          ],
        },
      ],
    },
  },
  {
    // The status page runs in the browser (its own tsconfig gives it the DOM lib, not Node's types).
    files: ['src/fleet-page/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Asymmetric matchers (expect.any, expect.objectContaining) are typed `any` by design.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
