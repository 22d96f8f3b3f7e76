/**
 * The remote terminal: xterm.js over `GET /v1/nodes/:id/shell` (WebSocket, authenticated by the
 * session cookie). Client frames: input, resize, close; server frames: ready, output (base64), end.
 */
import { FitAddon } from '@xterm/addon-fit';
import { type ILinkHandler, Terminal } from '@xterm/xterm';
import { h, replace } from './dom.js';

/**
 * Links in the node's output (OSC 8 hyperlinks) are the node's words, not ours: whoever controls
 * the machine chooses them. xterm's default asks `confirm()` and then opens the link; this handler
 * never opens anything. Hovering or clicking shows the address, as text, in the status line.
 * Links other than http(s) are not even made links. (No plain-URL detection addon is loaded, so a
 * bare URL in the output is never a link.)
 */
function nodeLinkHandler(show: (url: string) => void, restore: () => void): ILinkHandler {
  return {
    allowNonHttpProtocols: false,
    activate: (event, url) => {
      event.preventDefault();
      show(url);
    },
    hover: (_event, url) => show(url),
    leave: () => restore(),
  };
}

type ServerFrame =
  | { type: 'ready'; sessionId: string }
  | { type: 'output'; data: string }
  | { type: 'end'; reason: string; exitCode?: number }
  | { type: 'error'; message: string };

function decodeBase64(data: string): Uint8Array {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Opens a shell in `container`; returns a function that closes it. */
export function openTerminal(
  container: HTMLElement,
  nodeId: string,
  onEnd: (reason: string) => void,
): () => void {
  const status = h('p', { class: 'muted', role: 'status' }, 'Connecting…');
  const screen = h('div', { class: 'terminal', 'aria-label': 'Remote terminal' });
  const closeButton = h('button', { type: 'button', class: 'secondary' }, 'Close terminal');
  replace(container, h('div', { class: 'row' }, status, closeButton), screen);

  let statusText = 'Connecting…';
  const setStatus = (text: string) => {
    statusText = text;
    replace(status, text);
  };
  const showLink = (url: string) =>
    replace(status, `Links from the machine are not opened. This one points to: ${url.slice(0, 300)}`);
  const term = new Terminal({
    linkHandler: nodeLinkHandler(showLink, () => replace(status, statusText)),
    cursorBlink: true,
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
    fontSize: 14,
    convertEol: false,
    scrollback: 2000,
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(screen);
  fit.fit();
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(
    `${scheme}://${location.host}/v1/nodes/${encodeURIComponent(nodeId)}/shell?cols=${term.cols}&rows=${term.rows}`,
  );
  let ended = false;
  const finish = (reason: string) => {
    if (ended) return;
    ended = true;
    setStatus(`Session ended: ${reason}`);
    term.write(`\r\n\x1b[2m[${reason}]\x1b[0m\r\n`);
    closeButton.disabled = true;
    onEnd(reason);
  };
  const send = (frame: unknown) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  };
  socket.addEventListener('message', (event: MessageEvent<string>) => {
    const frame = JSON.parse(event.data) as ServerFrame;
    if (frame.type === 'ready') {
      setStatus(`Connected to ${nodeId} (session ${frame.sessionId}). Everything is recorded.`);
      term.focus();
    } else if (frame.type === 'output') {
      term.write(decodeBase64(frame.data));
    } else if (frame.type === 'end') {
      finish(frame.exitCode === undefined ? frame.reason : `${frame.reason} (exit code ${frame.exitCode})`);
    } else if (frame.type === 'error') {
      setStatus(frame.message);
    }
  });
  socket.addEventListener('close', () => finish('The connection closed.'));
  socket.addEventListener('error', () =>
    finish('The terminal could not connect: the machine may be offline or remote shells are disabled on it.'),
  );
  const input = term.onData((data) => send({ type: 'input', data }));
  const resize = term.onResize(({ cols, rows }) => send({ type: 'resize', cols, rows }));
  const onWindowResize = () => fit.fit();
  window.addEventListener('resize', onWindowResize);
  const close = () => {
    window.removeEventListener('resize', onWindowResize);
    send({ type: 'close' });
    input.dispose();
    resize.dispose();
    socket.close();
    term.dispose();
  };
  closeButton.addEventListener('click', () => {
    send({ type: 'close' });
    closeButton.disabled = true;
  });
  return close;
}
