import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const services = ['@chat/gateway', '@chat/session-api', '@chat/persister', '@chat/webhooks'];
const noDeepImports = { group: ['@chat/*/src', '@chat/*/src/*', '**/libs/*/src/*', '**/services/*/src/*', '**/apps/*/src/*'], message: 'Import a package through its entry point.' };

const libraryForbidden = ['@chat/gateway', '@chat/session-api', '@chat/persister', '@chat/webhooks', '@chat/web', '@chat/standalone', '**/services/**', '**/apps/**'];
/** An adapter package may import core, protocol, telemetry and config; no other package of ours. */
const adapterForbidden = ['@chat/*', '!@chat/core', '!@chat/protocol', '!@chat/telemetry', '!@chat/config'];

/** Layers: libraries never import services or apps; a service never imports another service. */
const layer = (files, forbidden) => ({
  files,
  rules: {
    '@typescript-eslint/no-restricted-imports': ['error', { patterns: [noDeepImports, { group: forbidden, message: 'This layer may not import that package.' }] }],
  },
});

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'coverage/**', 'bench-results/**', 'apps/web/public/**', 'test-results/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.config.js', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  layer(['libs/**'], libraryForbidden),
  // Ports and in-process adapters: no broker client, so a consumer of a type pulls in neither.
  layer(['libs/core/**'], [...libraryForbidden, '@chat/redis', '@chat/jetstream', '@chat/composition', 'ioredis', 'ioredis/*', '@nats-io/*', '**/libs/redis/**', '**/libs/jetstream/**']),
  // One package per broker: each implements core's ports, and neither knows the other.
  layer(['libs/redis/**'], [...libraryForbidden, ...adapterForbidden, '@nats-io/*', '**/libs/jetstream/**']),
  layer(['libs/jetstream/**'], [...libraryForbidden, ...adapterForbidden, 'ioredis', 'ioredis/*', '**/libs/redis/**']),
  layer(['services/gateway/**'], [...services.filter((s) => s !== '@chat/gateway'), '**/services/**', '**/apps/**']),
  layer(['services/session-api/**'], [...services.filter((s) => s !== '@chat/session-api'), '**/services/**', '**/apps/**']),
  layer(['services/persister/**'], [...services.filter((s) => s !== '@chat/persister'), '**/services/**', '**/apps/**']),
  layer(['services/webhooks/**'], [...services.filter((s) => s !== '@chat/webhooks'), '**/services/**', '**/apps/**']),
  {
    files: ['**/*.test.ts', 'tests/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  // The Streamlit component's page runs in a browser frame, not in Node.
  { files: ['clients/streamlit/**/frontend/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
);
