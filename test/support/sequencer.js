/**
 * Test order: jest's own (failed first, then slowest first), except that test files loading
 * node-llama-cpp run first, each in a fresh worker. node-llama-cpp is ESM-only and loads parts of
 * itself with dynamic `import()`; inside jest's VM sandbox such imports stay bound to the test
 * environment that first loaded the package, so a second test file in the same worker process fails
 * with "Test environment has been torn down". The first file a worker runs has no predecessor.
 */
const Sequencer = require('@jest/test-sequencer').default;

const FIRST = /notes-llama-cpp\.test\.ts$/;

class CareCompanionSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted.filter((t) => FIRST.test(t.path)), ...sorted.filter((t) => !FIRST.test(t.path))];
  }
}

module.exports = CareCompanionSequencer;
