import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'],
          testTimeout: 60_000,
          // Vitest's default is one worker fewer than the cores: one file at a time on 2 cores, and
          // most of a unit file's time is importing its modules. Two at a time: 125 s instead of ~175 s.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          setupFiles: ['test/integration/log-scan.setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Each file runs its own emulator on its own port. A file spends much of its time waiting
          // (on drains, the batching window, CLI processes), so three at a time keep two cores busy:
          // in fresh-clone CI runs on 2 cores, 394-407 s against 434 s with two (2026-12-03).
          // Runs after the unit project (groupOrder), which uses the cores by itself.
          maxWorkers: 3,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
