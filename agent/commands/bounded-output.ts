/**
 * Command output that fits the wire (pure): at most `maxChars` characters (the protocol's 60 KiB)
 * and, once JSON-escaped, small enough that the `result` frame stays under the 64 KiB frame limit.
 */

export const RESULT_OUTPUT_MAX_CHARS = 60 * 1024;
/** Room left for the rest of the `result` frame (type, id, ok) under MAX_FRAME_BYTES. */
export const RESULT_OUTPUT_MAX_ENCODED_BYTES = 62 * 1024;

const encodedBytes = (text: string) => Buffer.byteLength(JSON.stringify(text), 'utf8');

/** Keep the end (`tail`) or the start of `text` so that it fits; says so when it was cut. */
export function boundOutput(
  text: string,
  options: { maxChars?: number; maxEncodedBytes?: number; keep?: 'head' | 'tail' } = {},
): string {
  const maxChars = options.maxChars ?? RESULT_OUTPUT_MAX_CHARS;
  const maxBytes = options.maxEncodedBytes ?? RESULT_OUTPUT_MAX_ENCODED_BYTES;
  if (text.length <= maxChars && encodedBytes(text) <= maxBytes) return text;
  const marker = '\n[… cut to fit 60 KiB …]\n';
  let low = 0;
  let high = Math.min(text.length, maxChars - marker.length);
  const cut = (n: number) =>
    options.keep === 'tail' ? marker + text.slice(text.length - n) : text.slice(0, n) + marker;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (encodedBytes(cut(mid)) <= maxBytes) low = mid;
    else high = mid - 1;
  }
  return cut(low);
}

/** The last `lines` lines of `text`. */
export function tailLines(text: string, lines: number): string {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all.slice(-lines).join('\n');
}
