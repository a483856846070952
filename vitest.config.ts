import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'server/**/*.test.ts', 'firmware-sim/**/*.test.ts', 'schemas/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites bind real TCP ports and spin SQLite files; a small pool keeps a 2-core box responsive.
    pool: 'forks',
    maxWorkers: 2,
  },
});
