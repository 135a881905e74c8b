/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(ts|js|mjs)$': '<rootDir>/tools/jest-esbuild-transform.js',
  },
  // @middy/core ships ESM only; let the transformer turn it into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleNameMapper: {
    '^cdk-microservices$': '<rootDir>/lib/index.ts',
  },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  testTimeout: 120000,
  reporters: ['<rootDir>/tools/jest-summary-reporter.js'],
};
