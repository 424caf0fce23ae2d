// Lint: @eslint/js recommended + typescript-eslint's type-checked rules. Formatting is Prettier's job (.prettierrc.json),
// so no stylistic rule here may fight it.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** The browser globals demo/demo.js uses (the `globals` package is not a dependency). */
const BROWSER_GLOBALS = 'atob btoa console crypto document fetch history location sessionStorage TextDecoder TextEncoder URL URLSearchParams window'.split(' ');

export default defineConfig(
  { ignores: ['dist/', 'dist-test/', 'node_modules/', 'bench-results/', 'test-artifacts/', 'openapi/', 'src/client/openapi-types.ts'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's describe/it/test return promises the runner itself awaits; every other floating promise is still an error.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' }] },
      ],
      // `async` here marks a Promise contract (Fastify plugins and handlers, TokenSource, retry callbacks): dropping it
      // would turn a rejection into a synchronous throw and change how Fastify loads a plugin.
      '@typescript-eslint/require-await': 'off',
      // The `_` prefix is TypeScript's own convention for an intentionally unused name (noUnusedLocals/Parameters agree).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests probe parsed JSON replies (`json: any` in the harnesses) and assert on their shape at run time; typing every
      // probe would add casts, not safety. src/ and bench/ keep these rules.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  // The config file and the demo page's script are plain JS outside the tsconfig projects.
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    // The demo page's script is a browser module (served by src/dev/demo-page.ts); these are the browser globals it uses.
    files: ['demo/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(BROWSER_GLOBALS.map((name) => [name, 'readonly'])),
    },
  },
);
