/**
 * A QEMU guest driven over its first serial port (`-serial stdio`): everything it prints is kept
 * (and appended to a log file), `expect` waits for a pattern with a bounded timeout, `type` sends keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { OVMF_CODE, QEMU } from './preconditions.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>78cDEHM]/g;

export interface QemuOptions {
  iso?: string | undefined;
  disk: string;
  memoryMiB: number;
  logFile: string;
  label: string;
  /** Boot by UEFI (OVMF) with this writable copy of the firmware's variable store; default BIOS. */
  uefiVars?: string | undefined;
  /** The guest's second serial port (ttyS1) written to this file (the test image's self-test report). */
  secondSerialFile?: string | undefined;
}

export { OVMF_VARS } from './preconditions.js';

export function qemuArgs(o: QemuOptions): string[] {
  return [
    '-accel',
    'tcg',
    '-m',
    String(o.memoryMiB),
    '-smp',
    '2',
    '-display',
    'none',
    '-serial',
    'stdio',
    ...(o.secondSerialFile ? ['-serial', `file:${o.secondSerialFile}`] : []),
    '-monitor',
    'none',
    '-no-reboot',
    ...(o.uefiVars
      ? [
          '-drive',
          `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`,
          '-drive',
          `if=pflash,format=raw,file=${o.uefiVars}`,
        ]
      : []),
    '-drive',
    `file=${o.disk},format=raw,if=virtio`,
    ...(o.iso ? ['-cdrom', o.iso, '-boot', 'order=d'] : ['-boot', 'order=c']),
    '-netdev',
    // User networking: the guest reaches the host's loopback as 10.0.2.2; nothing else is forwarded.
    'user,id=n0',
    '-device',
    'virtio-net-pci,netdev=n0',
  ];
}

export class SerialConsole {
  private pending = '';
  private text = '';
  private cursor = 0;
  private readonly child: ChildProcess;
  private listeners = new Set<() => void>();
  /** Set when QEMU could not be started at all (e.g. ENOENT): every wait fails at once with it. */
  private spawnError: Error | undefined;
  readonly exited: Promise<number | null>;

  constructor(private readonly o: QemuOptions) {
    appendFileSync(o.logFile, `\n===== ${o.label}: qemu-system-x86_64 ${qemuArgs(o).join(' ')} =====\n`);
    this.child = spawn(QEMU, qemuArgs(o), { stdio: ['pipe', 'pipe', 'pipe'] });
    process.once('exit', () => this.child.kill('SIGKILL'));
    this.child.once('error', (error) => {
      this.spawnError = new Error(
        `${o.label}: ${QEMU} could not be started (${error.message}). Install it with: apt-get install -y --no-install-recommends qemu-system-x86`,
        { cause: error },
      );
      for (const l of this.listeners) l();
    });
    const onData = (chunk: Buffer) => {
      appendFileSync(o.logFile, chunk);
      // An escape sequence may be split across chunks: hold back a trailing, possibly partial one.
      this.pending += chunk.toString('utf8');
      const esc = this.pending.lastIndexOf('\x1b');
      const cut = esc >= 0 && this.pending.length - esc < 24 ? esc : this.pending.length;
      this.text += this.pending.slice(0, cut).replace(ANSI, '').replace(/\r/g, '');
      this.pending = this.pending.slice(cut);
      for (const l of this.listeners) l();
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => resolve(code));
      this.child.once('error', () => resolve(null));
    });
    void this.exited.then(() => {
      for (const l of this.listeners) l();
    });
  }

  get output(): string {
    return this.text;
  }

  /** Waits for `pattern` in what was printed since the last match; returns the match. */
  expect(pattern: RegExp, timeoutMs: number, what = String(pattern)): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      let done = false;
      const check = () => {
        if (done) return;
        const re = new RegExp(pattern.source, pattern.flags.replace('g', ''));
        const m = re.exec(this.text.slice(this.cursor));
        if (m) {
          done = true;
          this.cursor += m.index + m[0].length;
          finish();
          resolve(m);
        } else if (this.spawnError) {
          done = true;
          finish();
          reject(this.spawnError);
        } else if (this.child.exitCode !== null) {
          done = true;
          finish();
          reject(
            new Error(
              `${this.o.label}: QEMU exited (${this.child.exitCode}) before ${what}. Serial log: ${this.o.logFile}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        finish();
        const tail = this.text.slice(-1500);
        reject(
          new Error(
            `${this.o.label}: no ${what} within ${timeoutMs / 1000} s. Serial log: ${this.o.logFile}\n--- last output ---\n${tail}`,
          ),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  type(text: string): void {
    appendFileSync(this.o.logFile, `\n[harness types ${JSON.stringify(text)}]\n`);
    this.child.stdin?.write(text);
  }

  async waitExit(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
    );
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (this.spawnError) throw this.spawnError;
    if (result === 'timeout')
      throw new Error(`${this.o.label}: QEMU did not exit within ${timeoutMs / 1000} s`);
    return result;
  }

  async stop(): Promise<void> {
    if (this.spawnError || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
