/** Realistic enrollment bodies with real Ed25519 keys (jose). */
import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { EnrollRequest, PublicJwk } from '../../protocol/api.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
import { resolvePolicy } from '../../protocol/policy.js';
import { assessHardware } from '../../protocol/preflight.js';

const GiB = 1024 ** 3;

/** A typical home GPU box: Ryzen, 64 GiB, 2 TB NVMe, one RTX 4090 with a driver, on 192.168.1.0/24. */
export function rtx4090Hardware(overrides: Partial<HardwareFacts> = {}): HardwareFacts {
  return {
    cpu: {
      arch: 'x86_64',
      vendor: 'AuthenticAMD',
      model: 'AMD Ryzen 9 7950X 16-Core Processor',
      cores: 16,
      threads: 32,
    },
    memory: { totalBytes: 64 * GiB },
    disks: [
      { name: 'nvme0n1', sizeBytes: 2_000_398_934_016, model: 'Samsung SSD 990 PRO 2TB', removable: false },
    ],
    gpus: [
      {
        vendor: 'nvidia',
        model: 'rtx4090',
        pciId: '10de:2684',
        memoryBytes: 24_564 * 1024 * 1024,
        uuid: `GPU-${randomBytes(16).toString('hex')}`,
        driver: '550.54.15',
        name: 'NVIDIA GeForce RTX 4090',
      },
    ],
    network: {
      interfaces: [
        { name: 'enp5s0', mac: '3c:7c:3f:1e:22:10', ipv4: ['192.168.1.23/24'], defaultRoute: true },
      ],
    },
    os: { kernel: '6.1.0-18-amd64', distro: 'Debian GNU/Linux 12 (bookworm)' },
    virtualization: 'none',
    ...overrides,
  };
}

export interface TestMachine {
  publicKey: PublicJwk;
  privateJwk: Record<string, unknown>;
  fingerprint: string;
  hardware: HardwareFacts;
}

export async function newMachine(hardware: HardwareFacts = rtx4090Hardware()): Promise<TestMachine> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(publicKey);
  return {
    publicKey: { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) },
    privateJwk: { ...(await exportJWK(privateKey)) },
    fingerprint: createHash('sha256').update(randomBytes(32)).digest('hex'),
    hardware,
  };
}

export function enrollBody(installationKey: string, machine: TestMachine): EnrollRequest {
  return {
    installationKey,
    publicKey: machine.publicKey,
    fingerprint: machine.fingerprint,
    hardware: machine.hardware,
    preflight: assessHardware(machine.hardware, resolvePolicy()),
    agentVersion: '0.1.0',
  };
}
