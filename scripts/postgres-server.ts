/**
 * A throw-away PostgreSQL server for tests and benchmarks, from Debian's own binaries
 * (`postgresql-15`): `initdb` in a temporary folder, started on a free loopback port with
 * `pg_ctl`, stopped and deleted afterwards. As root it runs as the `postgres` user (PostgreSQL
 * refuses to run as root). Every step has a timeout, so a broken installation fails, never hangs.
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';

export interface PostgresServer {
  /** A superuser URL on the server's `postgres` database. */
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export class PostgresMissingError extends Error {
  constructor(detail: string) {
    super(
      `PostgreSQL's server programs are not installed (${detail}). Install the Debian package postgresql-15: apt-get install -y postgresql-15 (or set HOMENODE_POSTGRES_BIN to the folder holding initdb and pg_ctl).`,
    );
    this.name = 'PostgresMissingError';
  }
}

/** The folder with initdb and pg_ctl: HOMENODE_POSTGRES_BIN, else the newest /usr/lib/postgresql/N/bin. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.HOMENODE_POSTGRES_BIN;
  const candidates = explicit
    ? [explicit]
    : existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => join('/usr/lib/postgresql', v, 'bin'))
      : [];
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (!found)
    throw new PostgresMissingError(`no initdb in ${candidates.join(', ') || '/usr/lib/postgresql/*/bin'}`);
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

/** Runs a PostgreSQL program, as the postgres user when we are root, on `cpus` when given. */
function asPostgres(bin: string, args: string[], timeout: number, cpus?: string) {
  const command = isRoot() ? ['runuser', '-u', 'postgres', '--', bin, ...args] : [bin, ...args];
  const [file, ...rest] = cpus ? ['taskset', '-c', cpus, ...command] : command;
  return execa(file!, rest, { timeout });
}

export interface StartPostgresOptions {
  /** max_connections (default 200: several replicas, each with a pool, plus the tests). */
  maxConnections?: number;
  /**
   * Durability off (fsync, synchronous commit, full page writes): right for tests, whose data is
   * thrown away. Benchmarks keep the defaults so that their figures mean something.
   */
  durable?: boolean;
  /** Run the server on these CPUs (a taskset list, e.g. "0"), as benchmarks pin their processes. */
  cpus?: string;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'homenode-pg-'));
  if (isRoot()) chownSync(dir, Number((await execa('id', ['-u', 'postgres'])).stdout), 0);
  const data = join(dir, 'data');
  const port = await freePort();
  try {
    await asPostgres(
      join(bin, 'initdb'),
      ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
      60_000,
    );
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      `-c max_connections=${options.maxConnections ?? 200}`,
      ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ];
    await asPostgres(
      join(bin, 'pg_ctl'),
      ['-D', data, '-l', join(dir, 'server.log'), '-o', settings.join(' '), '-w', '-t', '60', 'start'],
      90_000,
      options.cpus,
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL could not be started in ${dir}`, { cause: error });
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async stop() {
      await asPostgres(
        join(bin, 'pg_ctl'),
        ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop'],
        60_000,
      ).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let databases = 0;

/**
 * A new database on the server, empty or a copy of `template` (a database nobody is connected
 * to); `drop` removes it, closing anyone still connected.
 */
export async function createDatabase(
  serverUrl: string,
  options: { prefix?: string; template?: string } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  databases += 1;
  const name = `${options.prefix ?? 'hn'}_${process.pid}_${databases}_${Math.random().toString(36).slice(2, 8)}`;
  if (options.template !== undefined && !/^\w+$/.test(options.template))
    throw new Error(`Not a database name: ${options.template}`);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}${options.template ? ` TEMPLATE ${options.template}` : ''}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
