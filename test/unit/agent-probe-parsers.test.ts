/** Parsers for nvidia-smi and lspci output, the systeminformation mapping and the fingerprint. */
import { describe, expect, it } from 'vitest';
import { computeFingerprint, fingerprintInputs } from '../../agent/probe/fingerprint.js';
import { mergeGpus, parseLspciGpus, parseLspciLine } from '../../agent/probe/lspci.js';
import { normalizeBusId, parseNvidiaSmi, pciIdFromDeviceId } from '../../agent/probe/nvidia-smi.js';
import { hardwareFromSnapshot, maskToPrefix, type SystemSnapshot } from '../../agent/probe/system-facts.js';

const SMI_4090 =
  '0, NVIDIA GeForce RTX 4090, GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90, 00000000:01:00.0, 0x268410DE, 24564, 550.54.15\n';
const LSPCI = [
  '00:00.0 Host bridge [0600]: Advanced Micro Devices, Inc. [AMD] Device [1022:14d8]',
  '01:00.0 VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce RTX 4090] [10de:2684] (rev a1)',
  '01:00.1 Audio device [0403]: NVIDIA Corporation AD102 High Definition Audio Controller [10de:22ba] (rev a1)',
  '02:00.0 VGA compatible controller [0300]: ASPEED Technology, Inc. ASPEED Graphics Family [1a03:2000] (rev 41)',
  '41:00.0 3D controller [0302]: NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204] (rev a1)',
  '42:00.0 VGA compatible controller [0300]: NVIDIA Corporation Device [10de:ffff]',
].join('\n');

describe('nvidia-smi', () => {
  it('parses the query output of an RTX 4090 with its driver', () => {
    expect(parseNvidiaSmi(SMI_4090)).toEqual([
      {
        vendor: 'nvidia',
        model: 'rtx4090',
        pciId: '10de:2684',
        name: 'NVIDIA GeForce RTX 4090',
        busId: '0000:01:00.0',
        memoryBytes: 24564 * 1024 * 1024,
        uuid: 'GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90',
        driver: '550.54.15',
      },
    ]);
  });

  it('skips lines that are not query rows and keeps unknown models as unknown', () => {
    const out = `${SMI_4090}No devices were found\n1, Some Future GPU, [N/A], 00000000:02:00.0, 0xFFFF10DE, [N/A], 600.1\n`;
    const gpus = parseNvidiaSmi(out);
    expect(gpus).toHaveLength(2);
    expect(gpus[1]).toMatchObject({ model: 'unknown', pciId: '10de:ffff', driver: '600.1' });
    expect(gpus[1]).not.toHaveProperty('uuid');
    expect(gpus[1]).not.toHaveProperty('memoryBytes');
  });

  it('converts ids and bus addresses', () => {
    expect(pciIdFromDeviceId('0x268410DE')).toBe('10de:2684');
    expect(pciIdFromDeviceId('nonsense')).toBeUndefined();
    expect(normalizeBusId('00000000:01:00.0')).toBe('0000:01:00.0');
    expect(normalizeBusId('41:00.0')).toBe('0000:41:00.0');
  });
});

describe('lspci -nn', () => {
  it('parses one line into bus, class and PCI id', () => {
    expect(parseLspciLine(LSPCI.split('\n')[1]!)).toEqual({
      busId: '0000:01:00.0',
      classId: '0300',
      description: 'NVIDIA Corporation AD102 [GeForce RTX 4090]',
      pciId: '10de:2684',
    });
  });

  it('lists NVIDIA VGA and 3D controllers, not audio functions or the BMC display', () => {
    const gpus = parseLspciGpus(LSPCI);
    expect(gpus.map((g) => [g.busId, g.model, g.name])).toEqual([
      ['0000:01:00.0', 'rtx4090', 'GeForce RTX 4090'],
      ['0000:41:00.0', 'rtx3090', 'GeForce RTX 3090'],
      ['0000:42:00.0', 'unknown', 'NVIDIA Corporation Device'],
    ]);
    expect(gpus.every((g) => g.driver === undefined)).toBe(true);
  });

  it('merges: the driver view wins, lspci adds the GPUs without a driver', () => {
    const merged = mergeGpus(parseNvidiaSmi(SMI_4090), parseLspciGpus(LSPCI));
    expect(merged.map((g) => [g.busId, g.driver ?? null])).toEqual([
      ['0000:01:00.0', '550.54.15'],
      ['0000:41:00.0', null],
      ['0000:42:00.0', null],
    ]);
  });
});

function snapshot(overrides: Partial<SystemSnapshot> = {}): SystemSnapshot {
  return {
    machine: 'x86_64',
    cpu: {
      manufacturer: 'AMD',
      brand: 'Ryzen 9 7950X 16-Core Processor',
      vendor: 'AuthenticAMD',
      physicalCores: 16,
      cores: 32,
    },
    memTotal: 67_108_864_000,
    blockDevices: [
      {
        name: 'nvme0n1',
        type: 'disk',
        size: 2_000_398_934_016,
        model: 'Samsung SSD 990 PRO 2TB',
        removable: false,
        protocol: 'nvme',
      },
      { name: 'nvme0n1p1', type: 'part', size: 536_870_912, model: '', removable: false, protocol: 'nvme' },
      {
        name: 'sda',
        type: 'disk',
        size: 31_406_948_352,
        model: 'Ultra Fit',
        removable: false,
        protocol: 'usb',
      },
      { name: 'zram0', type: 'disk', size: 8_000_000_000, model: '', removable: false, protocol: '' },
      { name: 'loop0', type: 'loop', size: 900_000_000, model: '', removable: false, protocol: '' },
    ],
    interfaces: [
      {
        iface: 'lo',
        mac: '00:00:00:00:00:00',
        ip4: '127.0.0.1',
        ip4subnet: '255.0.0.0',
        internal: true,
        virtual: false,
        type: 'virtual',
      },
      {
        iface: 'enp5s0',
        mac: '3C:7C:3F:1E:22:10',
        ip4: '192.168.1.23',
        ip4subnet: '255.255.255.0',
        internal: false,
        virtual: false,
        type: 'wired',
      },
      {
        iface: 'docker0',
        mac: '02:42:ac:11:00:01',
        ip4: '172.17.0.1',
        ip4subnet: '255.255.0.0',
        internal: false,
        virtual: true,
        type: 'virtual',
      },
    ],
    defaultInterface: 'enp5s0',
    os: { kernel: '6.1.0-18-amd64', distro: 'Debian GNU/Linux', release: '12' },
    system: { uuid: '4C4C4544-0042-3510-8052-B4C04F4E4B32', virtual: false },
    ...overrides,
  };
}

describe('systeminformation mapping', () => {
  it('maps a recorded snapshot to the enrollment hardware facts', () => {
    const hw = hardwareFromSnapshot(snapshot(), []);
    expect(hw.cpu).toEqual({
      arch: 'x86_64',
      vendor: 'AuthenticAMD',
      model: 'AMD Ryzen 9 7950X 16-Core Processor',
      cores: 16,
      threads: 32,
    });
    expect(hw.disks.map((d) => [d.name, d.removable])).toEqual([
      ['nvme0n1', false],
      ['sda', true],
    ]);
    expect(hw.network.interfaces).toEqual([
      {
        name: 'enp5s0',
        mac: '3c:7c:3f:1e:22:10',
        ipv4: ['192.168.1.23/24'],
        defaultRoute: true,
        virtual: false,
      },
      {
        name: 'docker0',
        mac: '02:42:ac:11:00:01',
        ipv4: ['172.17.0.1/16'],
        defaultRoute: false,
        virtual: true,
      },
    ]);
    expect(hw.os).toEqual({ kernel: '6.1.0-18-amd64', distro: 'Debian GNU/Linux 12' });
    expect(hw.virtualization).toBe('none');
    expect(
      hardwareFromSnapshot(snapshot({ system: { uuid: '', virtual: true, virtualHost: 'KVM' } }), [])
        .virtualization,
    ).toBe('KVM');
  });

  it('turns masks into prefixes', () => {
    expect(maskToPrefix('255.255.255.0')).toBe(24);
    expect(maskToPrefix('255.255.255.255')).toBe(32);
    expect(maskToPrefix('255.0.255.0')).toBeUndefined();
  });
});

describe('fingerprint', () => {
  const withDriver = hardwareFromSnapshot(snapshot(), parseNvidiaSmi(SMI_4090));
  const withoutDriver = hardwareFromSnapshot(
    snapshot(),
    parseLspciGpus(LSPCI.split('\n').slice(0, 2).join('\n')),
  );
  const fp = (hw: typeof withDriver, board = '4C4C4544-0042-3510-8052-B4C04F4E4B32') =>
    computeFingerprint(fingerprintInputs(hw, board));

  it('is 64 hex characters, ignores virtual interfaces and does not change when a driver is loaded', () => {
    expect(fp(withDriver)).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprintInputs(withDriver, 'X').macs).toEqual(['3c:7c:3f:1e:22:10']);
    expect(fp(withoutDriver)).toBe(fp(withDriver));
  });

  it('changes with the board, the NICs or the GPUs', () => {
    expect(fp(withDriver, 'other-board')).not.toBe(fp(withDriver));
    const noGpu = hardwareFromSnapshot(snapshot(), []);
    expect(fp(noGpu)).not.toBe(fp(withDriver));
  });
});
