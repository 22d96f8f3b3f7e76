/**
 * Records a remote shell session as asciicast v2 (one JSON header line, then `[t, "o"|"i"|"r", data]`
 * lines), up to `maxBytes`: the event that would pass the cap is replaced by one marker line (an
 * output event, so players show it), and nothing more is written.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface RecorderOptions {
  /** The file's largest size (the marker line may add a little over 100 bytes). */
  maxBytes: number;
  /** Why the cap is what it is, for the marker line ("the 50 MiB per session"). */
  limitText: string;
  /** Called once, when the cap stops the recording. */
  onLimit: (recordedBytes: number) => void;
}

export class ShellRecorder {
  private readonly fd: number;
  private readonly startedAt: number;
  private closed = false;
  bytesOut = 0;
  recordedBytes = 0;
  truncated = false;

  constructor(
    readonly path: string,
    header: { cols: number; rows: number; startedAt: number; title: string },
    private readonly now: () => number,
    private readonly options: RecorderOptions,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, 'wx', 0o600);
    this.startedAt = header.startedAt;
    this.write(
      `${JSON.stringify({
        version: 2,
        width: header.cols,
        height: header.rows,
        timestamp: Math.floor(header.startedAt / 1000),
        title: header.title,
      })}\n`,
    );
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
    if (this.closed || this.truncated) return;
    const line = `${JSON.stringify([this.elapsed(), kind, data])}\n`;
    if (this.recordedBytes + Buffer.byteLength(line) <= this.options.maxBytes) return this.write(line);
    this.truncated = true;
    this.write(
      `${JSON.stringify([
        this.elapsed(),
        'o',
        `\r\n[Home Node: the recording stops here: it reached ${this.options.limitText}. The session went on unrecorded.]\r\n`,
      ])}\n`,
    );
    this.options.onLimit(this.recordedBytes);
  }

  private elapsed(): number {
    return Math.round(this.now() - this.startedAt) / 1000;
  }

  private write(text: string): void {
    const buffer = Buffer.from(text, 'utf8');
    writeSync(this.fd, buffer);
    this.recordedBytes += buffer.length;
  }
}
