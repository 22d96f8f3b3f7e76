/**
 * The OpenAPI document the server serves, judged by a real linter: `@redocly/cli lint` with the
 * project's `redocly.yaml` (recommended-strict) finds no error. What every operation must have is
 * checked here too, in words a reader of a failure understands.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../helpers/server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const REDOCLY = join(ROOT, 'node_modules', '.bin', 'redocly');

const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Operation = {
  operationId?: string;
  summary?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
};
type Document = { paths: Record<string, Record<string, Operation>> };

async function servedDocument(): Promise<{ text: string; doc: Document }> {
  const server = await startTestServer();
  servers.push(server);
  const text = await (await fetch(`${server.url}/openapi.json`)).text();
  return { text, doc: JSON.parse(text) as Document };
}

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, op })),
  );

describe('the OpenAPI document', () => {
  it('passes redocly lint (recommended-strict) with no errors', async () => {
    const { text } = await servedDocument();
    const dir = mkdtempSync(join(tmpdir(), 'homenode-openapi-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'openapi.json'), text);
    copyFileSync(join(ROOT, 'redocly.yaml'), join(dir, 'redocly.yaml'));
    copyFileSync(join(ROOT, '.redocly.lint-ignore.yaml'), join(dir, '.redocly.lint-ignore.yaml'));
    const lint = spawnSync(REDOCLY, ['lint', 'openapi.json', '--format=stylish'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        REDOCLY_TELEMETRY: 'off',
        REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
        NO_COLOR: '1',
      },
    });
    if (lint.error) throw new Error(`@redocly/cli could not run (${lint.error.message}): run npm ci`);
    const output = `${lint.stdout}\n${lint.stderr}`;
    // Problem lines read `1:866  error  rule-name  Message` (and warnings alike).
    expect(output.split('\n').filter((l) => /^\s*\d+:\d+\s+(error|warning)\s/.test(l))).toEqual([]);
    expect(output).toContain('Your API description is valid');
    expect(lint.status).toBe(0);
  }, 180_000);

  it('names, summarises and secures every operation, and gives every non-JSON answer its media type', async () => {
    const { doc } = await servedDocument();
    const all = operations(doc);
    const ids = all.map((o) => o.op.operationId);
    expect(all.filter((o) => !o.op.operationId).map((o) => o.where)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(all.filter((o) => !o.op.summary).map((o) => o.where)).toEqual([]);
    // Health, metrics and both WebSockets are in it.
    for (const path of ['/healthz', '/readyz', '/metrics', '/v1/control', '/v1/nodes/{id}/shell'])
      expect(Object.keys(doc.paths)).toContain(path);
    expect(doc.paths['/v1/control']?.get?.responses['101']).toBeDefined();
    expect(doc.paths['/v1/nodes/{id}/shell']?.get?.responses['101']).toBeDefined();
    // Files and text name their media type, and their 401s are documented.
    const media = (path: string) => Object.keys(doc.paths[path]?.get?.responses['200']?.content ?? {});
    expect(media('/v1/payout-periods/{id}/export.csv')).toEqual(['text/csv']);
    expect(media('/v1/nodes/{id}/commands/{commandId}/output')).toEqual(['text/plain']);
    expect(media('/v1/admin/backup')).toEqual(['application/vnd.sqlite3']);
    expect(media('/metrics')).toEqual(['text/plain']);
    for (const path of [
      '/v1/payout-periods/{id}/export.csv',
      '/v1/nodes/{id}/commands/{commandId}/output',
      '/v1/admin/backup',
    ])
      expect(Object.keys(doc.paths[path]?.get?.responses ?? {})).toEqual(
        expect.arrayContaining(['401', '403']),
      );
    // Public routes say so; the others need a token or a session.
    expect(doc.paths['/v1/enroll']?.post?.security).toEqual([]);
    expect(doc.paths['/v1/nodes']?.get?.security).toBeUndefined();
  });
});
