// `npm run test:iso` runs this first: it prints what is missing and the install command, and exits 1,
// before vitest starts (vitest's own globalSetup repeats the check when it is run directly).
import { assertIsoTestHost } from './preconditions.js';

assertIsoTestHost().then(
  () => {},
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
