// One jest project per test tier, so each tier runs alone:
//   npx jest --selectProjects unit|integration|native|privileged
const tier = (name, extra = {}) => ({
  displayName: name,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  transform: {
    '^.+\\.ts$': 'ts-jest',
    // @kubernetes/client-node 1.x and its OIDC dependencies ship only ES modules; jest's CommonJS
    // runtime needs them transpiled (Node itself loads them through require(esm)).
    '^.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, checkJs: false }, isolatedModules: true }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose)/)'],
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
