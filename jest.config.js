// ESM mode: run with NODE_OPTIONS=--experimental-vm-modules (see package.json "test").
const swc = {
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
  },
  module: { type: 'es6' },
};

export default {
  // Node's environment with the main realm's typed arrays, which onnxruntime-node's instanceof checks need.
  testEnvironment: '<rootDir>/src/inference/ort-jest-environment.cjs',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  testTimeout: 60000,
  // The private TimescaleDB cluster of the timescaledb backend (test/support/test-databases.ts), one per run.
  globalSetup: '<rootDir>/test/support/timescaledb.global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/timescaledb.global-teardown.mjs',
  maxWorkers: 2,
};
