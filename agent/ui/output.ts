/** Where the agent writes text for people, and how it colours it (none with NO_COLOR or no TTY). */

export interface Output {
  write(text: string): void;
  /** True when the output is an interactive terminal (countdowns redraw one line). */
  isTTY: boolean;
  /** Usable width: the terminal's, at most 80, one less so a full line never auto-wraps. */
  width: number;
}

export interface Style {
  bold: (text: string) => string;
  dim: (text: string) => string;
  red: (text: string) => string;
  green: (text: string) => string;
  yellow: (text: string) => string;
  cyan: (text: string) => string;
  enabled: boolean;
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string) => text;

export function createStyle(enabled: boolean): Style {
  if (!enabled) {
    return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain, enabled };
  }
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
    enabled,
  };
}

export function outputWidth(columns: number | undefined): number {
  return Math.max(40, Math.min(columns && columns > 0 ? columns : 80, 80) - 1);
}

/** Wrap plain text to `width` columns (words longer than a line are cut). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      let rest = word;
      while (rest.length > width) {
        if (line) lines.push(line);
        line = '';
        lines.push(rest.slice(0, width));
        rest = rest.slice(width);
      }
      if (!line) line = rest;
      else if (line.length + 1 + rest.length <= width) line = `${line} ${rest}`;
      else {
        lines.push(line);
        line = rest;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Wrap with a hanging indent: the first line after `lead`, the rest under it. */
export function wrapIndented(lead: string, text: string, width: number): string[] {
  const pad = ' '.repeat(lead.length);
  return wrapText(text, width - lead.length).map((line, i) => `${i === 0 ? lead : pad}${line}`);
}
