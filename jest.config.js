/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(ts|js|mjs)$': '<rootDir>/tools/jest-esbuild-transform.js',
  },
  // @middy/core and jose ship ESM only; let the transformer turn them into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!@middy/|jose/)'],
  moduleNameMapper: {
    '^cdk-microservices$': '<rootDir>/lib/index.ts',
    '^cdk-microservices/kit$': '<rootDir>/functions/shared/index.ts',
    '^cdk-microservices/kit/(.*)$': '<rootDir>/functions/shared/entries/$1.ts',
    '^cdk-microservices/contracts$': '<rootDir>/functions/contracts/index.ts',
    '^cdk-microservices/local$': '<rootDir>/local/index.ts',
  },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  testTimeout: 120000,
  reporters: ['<rootDir>/tools/jest-summary-reporter.js'],
};
