/** Which database errors mean "the disk is full" on either engine (the server answers 503 for them). */
import { describe, expect, it } from 'vitest';
import { isStorageFull } from '../../enroll-server/core/error-handler.js';

describe('isStorageFull', () => {
  it("knows SQLite's full disk and I/O errors and PostgreSQL's disk_full, and nothing else", () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', '53100'])
      expect(isStorageFull(Object.assign(new Error('x'), { code }))).toBe(true);
    for (const code of ['SQLITE_BUSY', '40001', '23505', '53200', 53100])
      expect(isStorageFull(Object.assign(new Error('x'), { code }))).toBe(false);
    expect(isStorageFull(new Error('no code'))).toBe(false);
  });
});
