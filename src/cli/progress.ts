// A one-line progress display on stderr, only when stderr is a terminal.
import type { WriteStream } from 'node:tty';
import { humanBytes } from './output.js';

export interface ProgressLine {
  done: number;
  total: number;
  unit: string;
  objects: number;
  bytes?: number;
}

export class Progress {
  private last = 0;
  private shown = false;

  constructor(
    private readonly out: NodeJS.WriteStream | WriteStream,
    private readonly enabled: boolean,
  ) {}

  static for(stderr: NodeJS.WriteStream, disabled: boolean): Progress {
    return new Progress(stderr, !disabled && stderr.isTTY === true);
  }

  update(p: ProgressLine): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && p.done < p.total) return;
    this.last = now;
    const width = 24;
    const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const bytes = p.bytes === undefined ? '' : ` · ${humanBytes(p.bytes)}`;
    this.out.write(
      `\r\x1b[2K[${bar}] ${p.done}/${p.total} ${p.unit} · ${p.objects} objects${bytes}`,
    );
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.out.write('\r\x1b[2K');
    this.shown = false;
  }
}
