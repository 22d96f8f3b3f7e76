/**
 * What the server keeps of the hardware facts and checks a node reports: only the fields the
 * schema knows (a newer agent may send more, and unknown fields are dropped rather than stored),
 * and at most `MAX_STORED_FACTS_BYTES` of each as JSON.
 */
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { type Check, CheckSchema, type HardwareFacts, HardwareFactsSchema } from '../../protocol/hardware.js';
import { ValidationError } from '../core/errors.js';

/** A real machine's facts are a few KiB (a hardware snapshot must fit one 48 KiB frame). */
export const MAX_STORED_FACTS_BYTES = 64 * 1024;

function known<T>(check: (v: unknown) => v is T, schema: TSchema, value: T): T {
  const cleaned = Value.Clean(schema, structuredClone(value));
  // Cleaning only removes properties, so what passed the schema still does.
  if (!check(cleaned)) throw new Error('cleaned facts no longer match their schema');
  return cleaned;
}

export function knownHardware(hardware: HardwareFacts): HardwareFacts {
  return known((v): v is HardwareFacts => Value.Check(HardwareFactsSchema, v), HardwareFactsSchema, hardware);
}

export function knownChecks(checks: readonly Check[]): Check[] {
  return checks.map((c) => known((v): v is Check => Value.Check(CheckSchema, v), CheckSchema, c));
}

/** Refuse facts too large to keep, naming the field (400, as for any other bad field). */
export function assertStorable(field: string, value: unknown): void {
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes <= MAX_STORED_FACTS_BYTES) return;
  throw new ValidationError(
    `body field '${field}' holds ${Math.ceil(bytes / 1024)} KiB of known facts; at most ${MAX_STORED_FACTS_BYTES / 1024} KiB is kept`,
    { details: [{ field, message: `at most ${MAX_STORED_FACTS_BYTES / 1024} KiB` }] },
  );
}
