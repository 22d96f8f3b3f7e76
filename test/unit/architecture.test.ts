/**
 * The layout rules of docs/architecture.md hold for the real sources: capabilities import only
 * the capabilities the doc names (and never the composition root), SQL lives only in `sqlite/`
 * folders, and transaction callbacks use their `tx`. Also: the checker catches each violation.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type SourceFile, checkArchitecture, importsOf, partOf } from '../helpers/architecture.js';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): SourceFile[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => {
      const path = relative(ROOT, join(e.parentPath, e.name));
      return { path, text: readFileSync(join(ROOT, path), 'utf8') };
    });
}

describe('architecture of the enroll-server', () => {
  const files = [...sources('enroll-server'), ...sources('protocol'), ...sources('agent')];

  it('finds the capability folders and their imports', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(partOf('enroll-server/app.ts')).toBe('composition');
    expect(partOf('enroll-server/control/sqlite/usage-repository.ts')).toBe('control');
    const hub = files.find((f) => f.path === 'enroll-server/control/hub.ts');
    expect(hub && importsOf(hub)).toContain('enroll-server/nodes/node-events.js');
  });

  it('has no forbidden import, no import cycle, no SQL outside sqlite/ folders, no root repositories inside a transaction', () => {
    expect(checkArchitecture(files).map((v) => v.message)).toEqual([]);
  });

  it('reports a capability importing app.ts or a capability the doc does not allow', () => {
    const violations = checkArchitecture([
      { path: 'enroll-server/nodes/node-service.ts', text: "import { buildApp } from '../app.js';\n" },
      {
        path: 'enroll-server/accounts/x.ts',
        text: "import type { PayoutService } from '../payouts/payout-service.js';",
      },
      { path: 'enroll-server/control/y.ts', text: "import { createMetrics } from '../core/metrics.js';" },
      { path: 'protocol/z.ts', text: "import { loadConfig } from '../enroll-server/core/config.js';" },
      { path: 'agent/a.ts', text: "import { hashKeySecret } from '../enroll-server/core/ids.js';" },
    ]);
    expect(violations.map((v) => [v.path, v.rule])).toEqual([
      ['enroll-server/nodes/node-service.ts', 'import'],
      ['enroll-server/accounts/x.ts', 'import'],
      ['protocol/z.ts', 'import'],
      ['agent/a.ts', 'import'],
    ]);
    expect(violations[1]?.message).toMatch(/accounts\/ may import protocol, core, not payouts\//);
  });

  it('reports an import cycle such as the one hub.ts and signed-reports.ts once had', () => {
    const violations = checkArchitecture([
      {
        path: 'enroll-server/control/hub.ts',
        text: "import { createSignedReports } from './signed-reports.js';",
      },
      { path: 'enroll-server/control/signed-reports.ts', text: "import type { HubDeps } from './hub.js';" },
    ]);
    expect(violations.map((v) => v.message)).toEqual([
      'import cycle: enroll-server/control/hub.ts → enroll-server/control/signed-reports.ts → enroll-server/control/hub.ts',
    ]);
  });

  it('reports SQL and database drivers outside a sqlite/ or postgres/ folder', () => {
    const violations = checkArchitecture([
      {
        path: 'enroll-server/nodes/node-service.ts',
        text: "const rows = db.prepare('SELECT * FROM nodes').all();",
      },
      { path: 'enroll-server/payouts/z.ts', text: 'const q = `\n  DELETE FROM adjustments WHERE id = ?`;' },
      { path: 'enroll-server/core/w.ts', text: "import Database from 'better-sqlite3';" },
      { path: 'enroll-server/control/v.ts', text: "import pg from 'pg';" },
      { path: 'enroll-server/nodes/sqlite/node-repository.ts', text: "db.prepare('SELECT * FROM nodes')" },
      { path: 'enroll-server/nodes/postgres/node-repository.ts', text: "sql.rows('SELECT * FROM nodes')" },
    ]);
    expect(violations.map((v) => [v.path, v.rule])).toEqual([
      ['enroll-server/nodes/node-service.ts', 'sql'],
      ['enroll-server/payouts/z.ts', 'sql'],
      ['enroll-server/core/w.ts', 'sql'],
      ['enroll-server/control/v.ts', 'sql'],
    ]);
    expect(violations[1]?.message).toContain('enroll-server/payouts/z.ts:2');
  });

  it('reports a transaction callback that calls the root repositories', () => {
    const text = [
      'await repos.transaction(async (tx) => {',
      '  await tx.owners.create(owner);',
      "  if (await repos.owners.getByEmail(email)) throw new ConflictError('taken (again)');",
      '});',
      'await repos.owners.get(id);',
    ].join('\n');
    const violations = checkArchitecture([{ path: 'enroll-server/accounts/r.ts', text }]);
    expect(violations).toEqual([expect.objectContaining({ rule: 'transaction' })]);
    expect(violations[0]?.message).toContain('enroll-server/accounts/r.ts:1');
  });
});
