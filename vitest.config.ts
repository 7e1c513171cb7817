import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "emulator/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two cores: integration tests spawn emulators and function processes of their own.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    allowOnly: false,
    passWithNoTests: false,
    reporters: ["default"],
  },
});
