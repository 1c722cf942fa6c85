// ESLint flat config. Besides typescript-eslint's recommended rules it enforces the house rule that a
// library is imported only where its adapter lives (STYLE.md).
const tseslint = require('typescript-eslint');
const js = require('@eslint/js');

/**
 * Every infrastructure library and its home: the folder(s) of its adapter. Homes must not nest (a
 * file matches at most one), which `homeConfigs` checks.
 *
 * MikroORM's home includes src/domain/: entities are MikroORM classes (decorators of @mikro-orm/core)
 * and services own their unit of work through the EntityManager (STYLE.md); the rule still keeps it out
 * of the GraphQL layer, the transports, inference, imaging and monitoring.
 */
const adapters = [
  { name: 'onnxruntime-node', homes: ['src/inference/onnx/**'] },
  { name: 'sharp', homes: ['src/imaging/**'] },
  { name: 'dicom-parser', homes: ['src/imaging/**'] },
  { name: '@cornerstonejs/*', homes: ['src/imaging/**'] },
  { name: 'jpeg-lossless-decoder-js', homes: ['src/imaging/**'] },
  { name: 'minio', homes: ['src/storage/**'] },
  { name: '@electric-sql/*', homes: ['src/db/**'] },
  // The ORM's driver in db/, and one LISTEN connection of its own in the PubSub adapter.
  { name: 'pg', homes: ['src/db/**', 'src/pubsub/**'] },
  { name: 'pg-boss', homes: ['src/jobs/**'] },
  { name: 'ws', homes: ['src/http/**'] },
  { name: 'graphql-ws', homes: ['src/http/**'] },
  { name: '@apollo/server', homes: ['src/http/**'] },
  { name: 'prom-client', homes: ['src/monitoring/**'] },
  { name: 'node-llama-cpp', homes: ['src/llm/**'] },
  { name: '@graphql-yoga/subscription', homes: ['src/pubsub/**'] },
  // The schema library; the PubSub adapter hands buildSchema a type-graphql PubSub.
  { name: 'type-graphql', homes: ['src/schema/**', 'src/resolvers/**', 'src/pubsub/**'] },
  {
    name: '@mikro-orm/*',
    homes: ['src/domain/**', 'src/db/**', 'src/errors/**', 'src/app.ts', 'migrations/**'],
  },
  { name: 'pino', homes: ['src/logging/**'] },
  { name: 'jose', homes: ['src/auth/**'] },
];

/** `no-restricted-imports` for a file in `home` (null: in no home): every library whose homes exclude it. */
const restricted = (home) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: adapters
        .filter((a) => !a.homes.includes(home))
        .map((a) => ({
          group: [a.name, `${a.name}/*`],
          message: `import ${a.name} only in ${a.homes.join(', ')} (its adapter)`,
        })),
    },
  ],
});

/** One config per home, which lifts the restriction of the libraries that live there. */
function homeConfigs() {
  const homes = [...new Set(adapters.flatMap((a) => a.homes))];
  const base = (h) => h.replace(/\/\*\*$/, '/');
  for (const h of homes)
    for (const other of homes)
      if (h !== other && base(h).endsWith('/') && base(other).startsWith(base(h)))
        throw new Error(`adapter homes must not nest: ${other} is inside ${h}`);
  return homes.map((home) => ({ files: [home], rules: restricted(home) }));
}

/**
 * Layers point one way (issue 14, item 3). The computational modules know no domain and no API layer;
 * the domain knows no API layer. A separate rule name from the library homes above, so neither
 * setting replaces the other.
 */
const layer = (files, forbidden, why) => ({
  files,
  ignores: ['**/*.spec.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: forbidden.map((f) => `**/${f}/**`).concat(forbidden.map((f) => `**/${f}`)), message: why },
        ],
      },
    ],
  },
});
const LAYERS = [
  layer(
    [
      'src/inference/**',
      'src/imaging/**',
      'src/training/**',
      'src/monitoring/drift-detection/**',
      'src/shared/**',
    ],
    ['domain', 'schema', 'resolvers', 'http'],
    'inference, imaging, training, drift detection and shared helpers define their own vocabulary and know no domain or API layer',
  ),
  layer(['src/domain/**'], ['schema', 'resolvers', 'http'], 'the domain knows no GraphQL or transport layer'),
];

module.exports = tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'data/**',
      'models/**',
      'client/generated.ts',
      '.scratch/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      ...restricted(null),
    },
  },
  ...homeConfigs(),
  ...LAYERS,
  {
    // No function over 80 lines in src/ (issue 14, item 6): a longer one is split into named steps, and a
    // spec's long describe into several, grouped by what they test. Migrations, generated code and the
    // suites under test/ live outside src/.
    files: ['src/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['test/**/*.ts', '**/*.spec.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
  },
  {
    // The dashboard's browser modules (native ES modules, no build step).
    files: ['public/dashboard/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'document',
          'window',
          'location',
          'fetch',
          'sessionStorage',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'URLSearchParams',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: { process: 'readonly', console: 'readonly' } },
  },
);
