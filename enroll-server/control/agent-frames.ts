/** Reads one control-channel frame from a node: JSON text that must match the protocol's schemas. */
import type { RawData } from 'ws';
import { Compile } from 'typebox/compile';
import { type AgentMessage, AgentMessageSchema } from '../../protocol/control.js';

const checkAgentMessage = Compile(AgentMessageSchema);

export type FrameResult =
  | { ok: true; message: AgentMessage }
  | { ok: false; code: 'BINARY_FRAME' | 'MALFORMED_JSON' | 'INVALID_MESSAGE'; message: string };

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The message in a frame, or the error to answer with (naming the first field that is wrong). */
export function readAgentFrame(data: RawData, isBinary: boolean): FrameResult {
  if (isBinary) return { ok: false, code: 'BINARY_FRAME', message: 'Frames must be JSON text.' };
  let value: unknown;
  try {
    value = JSON.parse(rawText(data));
  } catch {
    return { ok: false, code: 'MALFORMED_JSON', message: 'The frame is not valid JSON.' };
  }
  if (!checkAgentMessage.Check(value)) {
    const first = checkAgentMessage.Errors(value)[0];
    const type = typeof value === 'object' && value !== null && 'type' in value ? String(value.type) : '?';
    return {
      ok: false,
      code: 'INVALID_MESSAGE',
      message: `Message "${type}" is not valid${first ? `: ${first.instancePath || '/'} ${first.message}` : ''}.`,
    };
  }
  return { ok: true, message: value };
}
