/**
 * The agent's version, sent with enrollment and hello and shown by `--help`. A release built by
 * `npm run build:agent` carries `release.json` beside its bundle (docs/updates.md): the version is
 * read from there, so the running release always names itself. From the source tree (tsx, tests
 * without a release) it is the development version below.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RELEASE_MANIFEST } from '../protocol/update.js';

export const DEVELOPMENT_VERSION = '0.1.0';

function releaseVersion(): string {
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    const manifest: unknown = JSON.parse(readFileSync(join(here, RELEASE_MANIFEST), 'utf8'));
    if (typeof manifest === 'object' && manifest !== null && 'version' in manifest) {
      const { version } = manifest;
      if (typeof version === 'string' && /^[A-Za-z0-9.+~_-]{1,64}$/.test(version)) return version;
    }
    return DEVELOPMENT_VERSION;
  } catch {
    return DEVELOPMENT_VERSION;
  }
}

export const AGENT_VERSION = releaseVersion();
