// One jest project per test tier, so each tier runs alone:
//   npx jest --selectProjects unit|integration|native|privileged
const tier = (name, extra = {}) => ({
  displayName: name,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testEnvironment: 'node',
  ...extra,
});

module.exports = {
  projects: [
    tier('unit'),
    tier('integration'),
    tier('native'),
    // Root + network namespaces + real eBPF. Leftovers of crashed runs are swept first.
    tier('privileged', { globalSetup: '<rootDir>/test/harness/global-setup.ts' }),
  ],
  testTimeout: 60000,
};
