/** What an operator CLI command is, and the small helpers commands share to read their options. */
import type { ApiClient } from './client.js';

export type OptionSpec = Record<
  string,
  { type: 'string' | 'boolean'; description: string; required?: boolean }
>;

export interface CommandContext {
  api: ApiClient;
  options: Record<string, string | boolean | undefined>;
  args: string[];
}

export interface Command {
  name: string;
  summary: string;
  args?: string[];
  /** Works on local files: needs no server URL or token. */
  local?: boolean;
  options?: OptionSpec;
  run(ctx: CommandContext): Promise<unknown>;
  /** Human output; JSON is printed as is with --json. */
  render?(result: never): string;
}

export type Row = Record<string, unknown>;
export const str = (v: string | boolean | undefined): string | undefined =>
  typeof v === 'string' ? v : undefined;
export const int = (name: string, v: string | boolean | undefined): number | undefined => {
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be a whole number, not "${v}"`);
  return n;
};
export const query = (params: Record<string, string | number | boolean | undefined>): string => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined) as [
    string,
    string | number | boolean,
  ][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
};
export const id = (ctx: CommandContext): string => encodeURIComponent(ctx.args[0] ?? '');
