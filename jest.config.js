// Two tiers, chosen by file name: `*.e2e.test.ts` suites start processes (opencode, the bundled
// action in dist/, the CLI, git, fake binaries) and are the `e2e` project; every other
// `*.test.ts` suite is the `unit` project, pure and in-process. `npm run test:unit` and
// `npm run test:e2e` run one each; `npm test` runs unit, then e2e.
const E2E = '\\.e2e\\.test\\.ts$'

/** @type {import('ts-jest').JestConfigWithTsJest} */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1'
  },
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }
    ]
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/']
}

/** @type {import('ts-jest').JestConfigWithTsJest} */
export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['**/__tests__/**/*.test.ts'],
      testPathIgnorePatterns: [...shared.testPathIgnorePatterns, E2E]
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['**/__tests__/**/*.e2e.test.ts'],
      // fails the tier before any suite runs when dist/ was built from other sources
      globalSetup: '<rootDir>/__tests__/support/e2e-setup.mjs'
    }
  ],
  collectCoverage: false,
  verbose: true
}
