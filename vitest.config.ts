import { defineConfig } from 'vitest/config';

/**
 * The integration suites that matter for scale-out (issue 13: presence, telemetry, commands, broadcasts with proof
 * of play, manifests, the registry and its credentials) run a second time on the engines a larger deployment uses:
 * each test server on its own Mosquitto 2 (dynamic security; the simulated clusters connect there) and a fresh
 * PostgreSQL database (test/helpers/server.ts ENGINES). The repository suite runs on both databases by itself.
 */
const ON_EXTERNAL_ENGINES = [
  'test/health.test.ts',
  'test/device-loop.test.ts',
  'test/registry.test.ts',
  'test/broadcasts.test.ts',
  'test/offline-first-broadcast.test.ts',
  'test/area-policy.test.ts',
];
// Not here: test/report-burst.test.ts asserts the embedded broker's promise that a device's PUBACK follows the
// write (on Mosquitto the broker acknowledges the device and holds the message for the server's persistent session:
// docs/mosquitto.md); test/device-contract.test.ts probes the embedded broker's own policy (its CONNACK codes and rejection
// counters); Mosquitto enforces the same ACL its own way (docs/mosquitto.md), probed in test/mosquitto.test.ts.

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites bind real TCP ports and spin SQLite files; a small pool keeps a 2-core box responsive.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['test/**/*.test.ts', 'server/**/*.test.ts', 'firmware-sim/**/*.test.ts', 'schemas/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'mosquitto+postgres',
          include: ON_EXTERNAL_ENGINES,
          env: { LOA_TEST_BROKER: 'mosquitto', LOA_TEST_DB: 'postgres' },
          globalSetup: ['test/setup/postgres.global.ts'],
        },
      },
    ],
  },
});
