// ESLint flat config. Besides typescript-eslint's recommended rules it enforces the house rule that a
// library is imported only where its adapter lives (STYLE.md).
const tseslint = require('typescript-eslint');
const js = require('@eslint/js');

const adapters = [
  { name: 'onnxruntime-node', home: 'src/inference/onnx/**' },
  { name: 'sharp', home: 'src/imaging/**' },
  { name: 'dicom-parser', home: 'src/imaging/**' },
  { name: '@cornerstonejs/*', home: 'src/imaging/**' },
  { name: 'jpeg-lossless-decoder-js', home: 'src/imaging/**' },
  { name: 'minio', home: 'src/storage/**' },
  { name: '@electric-sql/*', home: 'src/db/**' },
];

const restricted = (except) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: adapters
        .filter((a) => a.home !== except)
        .map((a) => ({
          group: [a.name, `${a.name}/*`],
          message: `import ${a.name} only in ${a.home} (its adapter)`,
        })),
    },
  ],
});

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
  ...[...new Set(adapters.map((a) => a.home))].map((home) => ({ files: [home], rules: restricted(home) })),
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
