/**
 * The hardware fingerprint (DESIGN.md "Node identity"): a SHA-256 over the identifiers that survive
 * a re-install: the board's SMBIOS UUID, the sorted MACs of physical interfaces and the GPUs' PCI
 * addresses (both nvidia-smi and lspci report them, so loading a driver later does not change the
 * fingerprint; the GPU UUID is used only where no address is known).
 */
import { createHash } from 'node:crypto';
import type { HardwareFacts } from '../../protocol/hardware.js';

export interface FingerprintInputs {
  boardUuid: string;
  macs: string[];
  gpus: string[];
}

const ZERO_MAC = /^(00:){5}00$/;

export function fingerprintInputs(hardware: HardwareFacts, boardUuid: string): FingerprintInputs {
  const macs = hardware.network.interfaces
    .filter((i) => !i.virtual && i.mac && !ZERO_MAC.test(i.mac))
    .map((i) => i.mac.toLowerCase());
  const gpus = hardware.gpus.map((g) => g.busId ?? g.uuid ?? g.pciId);
  return {
    boardUuid: boardUuid.trim().toLowerCase(),
    macs: [...new Set(macs)].sort(),
    gpus: [...new Set(gpus)].sort(),
  };
}

/** Lower-case hex SHA-256 of a canonical rendering of the inputs. */
export function computeFingerprint(inputs: FingerprintInputs): string {
  const canonical = [
    `board=${inputs.boardUuid}`,
    `macs=${[...inputs.macs].sort().join(',')}`,
    `gpus=${[...inputs.gpus].sort().join(',')}`,
  ].join('\n');
  return createHash('sha256').update(canonical).digest('hex');
}
