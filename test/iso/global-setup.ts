// Before any test:iso work: fail at once, with the install command, when QEMU, OVMF or root is missing.
import { assertIsoTestHost } from './preconditions.js';

export default async function setup(): Promise<void> {
  await assertIsoTestHost();
}
