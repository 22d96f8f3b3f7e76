/**
 * Small, deterministic records for the conformance suite: the same calls on either engine must
 * give the same answers, so nothing here is random.
 */
import type { Owner } from '../../enroll-server/accounts/owner-repository.js';
import type { InstallationKeyRecord } from '../../enroll-server/enrollment/key-repository.js';
import type { EnrollmentFields } from '../../enroll-server/nodes/node-repository.js';
import type { Repositories } from '../../enroll-server/repositories.js';
import type { HardwareFacts } from '../../protocol/hardware.js';

export const T0 = Date.parse('2026-11-02T00:00:00Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export const owner = (n: number | string, createdAt = T0): Owner => ({
  id: `own_${n}`,
  email: `owner${n}@example.com`,
  name: `Owner ${n}`,
  createdAt,
});

export function hardware(gpus = 1, model = 'rtx4090'): HardwareFacts {
  return {
    cpu: { arch: 'x86_64', vendor: 'AuthenticAMD', model: 'AMD Ryzen 9 7950X', cores: 16, threads: 32 },
    memory: { totalBytes: 68_719_476_736 },
    disks: [
      { name: 'nvme0n1', sizeBytes: 2_000_398_934_016, model: 'Samsung SSD 990 PRO 2TB', removable: false },
    ],
    gpus: Array.from({ length: gpus }, (_, i) => ({
      vendor: 'nvidia',
      model,
      pciId: '10de:2684',
      memoryBytes: 25_757_220_864,
      uuid: `GPU-00000000-0000-0000-0000-00000000000${i}`,
      driver: '550.54.15',
    })),
    network: {
      interfaces: [
        { name: 'enp5s0', mac: '3c:7c:3f:1e:22:10', ipv4: ['192.168.1.23/24'], defaultRoute: true },
      ],
    },
    os: { kernel: '6.1.0-18-amd64', distro: 'Debian GNU/Linux 12 (bookworm)' },
    virtualization: 'none',
  };
}

export function enrollmentFields(
  n: number | string,
  overrides: Partial<EnrollmentFields> = {},
): EnrollmentFields {
  return {
    enrolledWithKey: null,
    status: 'pending',
    statusReason: null,
    publicKey: { kty: 'OKP', crv: 'Ed25519', x: `${String(n).padStart(43, 'x')}`.slice(0, 43) },
    publicKeyThumbprint: `thumb-${n}`,
    hardware: hardware(),
    preflight: [{ id: 'arch', status: 'pass', summary: 'x86-64', detail: '', fix: '' }],
    attributes: [{ key: 'capabilities/gpu/vendor/nvidia/model/rtx4090', value: 'true' }],
    labels: { 'akash.network': 'true' },
    agentVersion: '1.0.0',
    ...overrides,
  };
}

export function key(
  n: number | string,
  ownerId: string,
  overrides: Partial<InstallationKeyRecord> = {},
): InstallationKeyRecord {
  return {
    id: `key_${n}`,
    keyId: `K${String(n).padStart(3, '0')}`.slice(0, 4),
    secretHash: `salt$hash${n}`,
    ownerId,
    label: null,
    createdAt: T0,
    createdBy: null,
    expiresAt: T0 + 7 * 24 * HOUR,
    maxUses: 1,
    uses: 0,
    revokedAt: null,
    ...overrides,
  };
}

/** An owner and one node of theirs. */
export async function seedNode(
  repos: Repositories,
  n: number | string,
  options: { ownerId?: string; at?: number; fields?: Partial<EnrollmentFields>; fingerprint?: string } = {},
): Promise<string> {
  const ownerId = options.ownerId ?? `own_${n}`;
  if (!(await repos.owners.get(ownerId)))
    await repos.owners.create({ ...owner(n), id: ownerId, email: `owner-of-node-${n}@example.com` });
  const id = `node_${n}`;
  await repos.nodes.create(
    id,
    ownerId,
    options.fingerprint ?? `fp-${n}`,
    enrollmentFields(n, options.fields),
    options.at ?? T0,
  );
  return id;
}

/** Sorts nothing and hides nothing: what both engines must agree on. */
export const ids = (rows: readonly { id: string | number }[]) => rows.map((r) => r.id);
