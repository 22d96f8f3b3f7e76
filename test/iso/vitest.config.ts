// `npm run test:iso`: the ISO built, booted in QEMU and driven over its serial console (docs/iso.md).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'iso',
    include: ['test/iso/**/*.test.ts'],
    environment: 'node',
    // QEMU, OVMF, root and the build tools first: a missing one fails the run at once, with the fix.
    globalSetup: ['test/iso/global-setup.ts'],
    testTimeout: 40 * 60_000,
    hookTimeout: 20 * 60_000,
    fileParallelism: false,
    reporters: ['verbose'],
  },
});
