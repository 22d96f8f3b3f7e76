/** Records a remote shell session as asciicast v2 (one JSON header line, then `[t, "o"|"i"|"r", data]` lines). */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class ShellRecorder {
  private readonly fd: number;
  private readonly startedAt: number;
  private closed = false;
  bytesOut = 0;

  constructor(
    readonly path: string,
    header: { cols: number; rows: number; startedAt: number; title: string },
    private readonly now: () => number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'wx', 0o600);
    this.startedAt = header.startedAt;
    this.line({
      version: 2,
      width: header.cols,
      height: header.rows,
      timestamp: Math.floor(header.startedAt / 1000),
      title: header.title,
    });
  }

  output(bytes: Buffer): void {
    this.bytesOut += bytes.length;
    this.event('o', bytes.toString('utf8'));
  }

  input(text: string): void {
    this.event('i', text);
  }

  resize(cols: number, rows: number): void {
    this.event('r', `${cols}x${rows}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private event(kind: 'o' | 'i' | 'r', data: string): void {
    if (this.closed) return;
    this.line([Math.round(this.now() - this.startedAt) / 1000, kind, data]);
  }

  private line(value: unknown): void {
    writeSync(this.fd, `${JSON.stringify(value)}\n`);
  }
}
