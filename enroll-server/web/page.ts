/** What every page gets from the router. */
import type { Session } from './session.js';

export interface PageContext {
  root: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  session: Session;
  navigate(path: string): void;
  /** Run `fn` when the page is left (stop polling, close sockets). */
  onLeave(fn: () => void): void;
  now(): number;
}

export type Page = (ctx: PageContext) => void | Promise<void>;
