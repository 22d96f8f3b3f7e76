/**
 * What nvidia-smi's answer says about the driver, from the real 535.309.01 binary's words and exit
 * codes (recorded; see the stand-ins in test/fixtures/agent/bin-*), and the module's version.
 */
import { describe, expect, it } from 'vitest';
import { classifyNvidiaSmi, parseModinfoVersion, parseNvidiaSmi } from '../../agent/probe/nvidia-smi.js';

const NOT_LOADED =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";
const RTX4090 =
  '0, NVIDIA GeForce RTX 4090, GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90, 00000000:01:00.0, 0x268410DE, 24564, 550.54.15';

describe('classifyNvidiaSmi', () => {
  it('reads a loaded driver and its version from the GPUs it lists', () => {
    const gpus = parseNvidiaSmi(RTX4090);
    expect(classifyNvidiaSmi({ outcome: 'ok', stdout: RTX4090 }, gpus)).toEqual({
      state: 'loaded',
      version: '550.54.15',
    });
    // Answered, but listed nothing.
    expect(classifyNvidiaSmi({ outcome: 'ok', stdout: '' }, [])).toEqual({ state: 'no-devices' });
  });

  it('tells "No devices were found" (exit 6) from a module that is not loaded (exit 9)', () => {
    const none = {
      outcome: 'failed',
      program: 'nvidia-smi',
      message: 'No devices were found',
      exitCode: 6,
    } as const;
    expect(classifyNvidiaSmi(none, [])).toEqual({
      state: 'no-devices',
      exitCode: 6,
      message: 'No devices were found',
    });
    const off = { outcome: 'failed', program: 'nvidia-smi', message: NOT_LOADED, exitCode: 9 } as const;
    expect(classifyNvidiaSmi(off, [])).toMatchObject({
      state: 'not-loaded',
      exitCode: 9,
      message: NOT_LOADED,
    });
    // The words alone are enough (a wrapper that loses the exit code).
    expect(
      classifyNvidiaSmi({ outcome: 'failed', program: 'nvidia-smi', message: NOT_LOADED }, []),
    ).toMatchObject({
      state: 'not-loaded',
    });
  });

  it('keeps any other failure with its exit code and words, and a missing program as missing', () => {
    const lib =
      "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that the NVIDIA Display Driver is properly installed and present in your system.";
    expect(
      classifyNvidiaSmi({ outcome: 'failed', program: 'nvidia-smi', message: lib, exitCode: 12 }, []),
    ).toEqual({ state: 'failed', exitCode: 12, message: lib });
    expect(classifyNvidiaSmi({ outcome: 'missing', program: 'nvidia-smi' }, [])).toEqual({
      state: 'missing',
    });
  });
});

describe('parseModinfoVersion', () => {
  it('takes the version line and nothing else', () => {
    expect(parseModinfoVersion({ outcome: 'ok', stdout: '535.309.01\n' })).toBe('535.309.01');
    expect(parseModinfoVersion({ outcome: 'ok', stdout: 'vermagic: 6.1.0\n' })).toBeUndefined();
    expect(
      parseModinfoVersion({
        outcome: 'failed',
        program: 'modinfo',
        message: 'modinfo: ERROR: Module nvidia-current not found.',
        exitCode: 1,
      }),
    ).toBeUndefined();
  });
});
