/**
 * Jest configuration: unit specs beside the code; integration tests under test/integration and the
 * security regression tests under test/security (same project: real PostgreSQL, real sockets).
 */
const fs = require('node:fs');
const swc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swc.$schema;
const transform = {
  '^.+\\.ts$': ['@swc/jest', { ...swc, swcrc: false }],
  // The dashboard's browser modules (ES modules), so a test can import the pure ones (lib/operations.js).
  '/public/dashboard/.+\\.js$': [
    '@swc/jest',
    { ...swc, swcrc: false, jsc: { ...swc.jsc, parser: { syntax: 'ecmascript' } } },
  ],
};
const common = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['reflect-metadata'],
};
module.exports = {
  testTimeout: 60000,
  testSequencer: '<rootDir>/test/support/sequencer.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/security/**/*.test.ts'],
      // onnxruntime-node makes its output arrays in Node's main realm; see test/support/onnx-realm.ts.
      setupFiles: [...common.setupFiles, '<rootDir>/test/support/onnx-realm.ts'],
    },
  ],
};
