/** The PostgreSQL and replica settings: read once, every mistake named with its variable; passwords never shown. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../enroll-server/core/config.js';
import { redactUrl } from '../../enroll-server/core/postgres/database.js';
import { signShellGrant, verifyShellGrant } from '../../enroll-server/replicas/replica-token.js';

const URL = 'postgres://homenode:s3cret@db.internal:5432/homenode';
const SECRET = 'x'.repeat(40);

describe('replica configuration', () => {
  it('selects PostgreSQL with HOMENODE_DATABASE_URL and reads the replica settings', () => {
    const config = loadConfig({
      HOMENODE_DEV: '1',
      HOMENODE_DATABASE_URL: URL,
      HOMENODE_REPLICA_URL: 'http://10.0.0.5:8080/',
      HOMENODE_REPLICA_SECRET: SECRET,
      HOMENODE_REPLICA_HEARTBEAT_SECONDS: '2',
      HOMENODE_REPLICA_LAPSE_SECONDS: '10',
    });
    expect(config.databaseUrl).toBe(URL);
    expect(config.replica).toEqual({
      url: 'http://10.0.0.5:8080',
      secret: SECRET,
      heartbeatMs: 2000,
      lapseMs: 10_000,
    });
    expect(loadConfig({ HOMENODE_DEV: '1' }).databaseUrl).toBeUndefined();
  });

  it('names the variable and what to do, and never prints a password', () => {
    const problem = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        if (error instanceof ConfigError) return error.message;
        throw error;
      }
      return 'accepted';
    };
    expect(problem({ HOMENODE_DATABASE_URL: 'mysql://root:hunter2@db/x' })).toMatch(
      /^HOMENODE_DATABASE_URL="mysql:\/\/root:\*\*\*@db\/x": must be a PostgreSQL URL/,
    );
    expect(problem({ HOMENODE_REPLICA_URL: 'http://10.0.0.5:8080' })).toMatch(
      /set HOMENODE_DATABASE_URL too/,
    );
    expect(problem({ HOMENODE_DATABASE_URL: URL, HOMENODE_REPLICA_SECRET: 'short' })).toMatch(
      /^HOMENODE_REPLICA_SECRET="\(hidden\)": must be at least 32 characters/,
    );
    expect(problem({ HOMENODE_DATABASE_URL: URL, HOMENODE_REPLICA_URL: 'http://10.0.0.5:8080/x?y' })).toMatch(
      /no path/,
    );
    expect(problem({ HOMENODE_DATABASE_URL: URL, HOMENODE_REPLICA_LAPSE_SECONDS: '5' })).toMatch(
      /at least three heartbeats/,
    );
    expect(redactUrl(URL)).toBe('postgres://homenode:***@db.internal:5432/homenode');
    expect(redactUrl('not a url')).toBe('(not a URL)');
  });

  it('replica tokens: accepted by the replica they name, within their life, and by nothing else', async () => {
    const grant = {
      from: 'rep_a',
      to: 'rep_b',
      nodeId: 'node_1',
      principal: { tokenId: 'tok_1', role: 'ops' as const, ownerId: null },
    };
    const t0 = Date.parse('2026-11-02T10:00:00Z');
    const token = await signShellGrant(SECRET, grant, t0);
    expect(await verifyShellGrant(SECRET, token, 'rep_b', t0 + 1000)).toEqual(grant);
    await expect(verifyShellGrant(SECRET, token, 'rep_c', t0)).rejects.toThrow(/refused/);
    await expect(verifyShellGrant('y'.repeat(40), token, 'rep_b', t0)).rejects.toThrow(/refused/);
    await expect(verifyShellGrant(SECRET, token, 'rep_b', t0 + 60_000)).rejects.toThrow(/refused/);
    await expect(verifyShellGrant(SECRET, `${token}x`, 'rep_b', t0)).rejects.toThrow(/refused/);
  });
});
