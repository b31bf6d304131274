// Lint: ESLint's and typescript-eslint's type-checked recommended rules, the house rules that catch real bugs
// (floating promises, unused code), and the import boundaries between the floors of src/ (see README, Architecture).
// Formatting is Prettier's job (`npm run format`); eslint-config-prettier turns off the rules that would fight it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import prettier from 'eslint-config-prettier';

// The floors of src/ (README, Architecture): each folder may import only the folders listed for it (and itself).
// `cli/` is the composition root and may import anything; tests may too.
const FLOORS = {
  shared: [],
  contracts: ['shared'],
  transforms: ['shared', 'contracts'],
  workbook: ['shared', 'contracts'],
  sources: ['shared', 'contracts'],
  destinations: ['shared', 'contracts'],
  state: ['shared', 'contracts'],
  config: ['shared', 'contracts', 'transforms'],
  pipeline: ['shared', 'contracts', 'config', 'transforms', 'workbook'],
  scheduler: ['shared', 'contracts', 'config', 'pipeline'],
  server: ['shared', 'contracts'],
  simulators: ['shared'],
};
const FOLDERS = [...Object.keys(FLOORS), 'cli'];
const boundaryRules = Object.entries(FLOORS).map(([folder, allowed]) => ({
  files: [`src/${folder}/**/*.ts`],
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: FOLDERS.filter((f) => f !== folder && !allowed.includes(f)).map((f) => ({
          group: [`**/${f}/**`, `../${f}`, `../../${f}`],
          message: `src/${folder}/ may import only ${[...allowed, folder].map((a) => `src/${a}/`).join(', ')} (see the floors in eslint.config.js)`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'bench-results/**',
      'data/**',
      'out/**',
      'coverage/**',
      '.tmp/**',
      'test-results/**',
      'scripts/*.mjs',
    ],
  },
  js.configs.recommended,
  {
    // The dashboard is plain browser JavaScript served as is (no build step).
    files: ['src/server/dashboard/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
  {
    files: ['eslint.config.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      // Async functions that implement a Promise-returning interface without awaiting anything are correct code.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read HTTP answers and workbook cells as untyped JSON and assert on them; zod at every edge is for src/.
    files: ['**/*.test.ts', 'test/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // csv-parse's overloads need the `as string[][]` the rule calls unnecessary.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  ...boundaryRules,
  prettier,
);
