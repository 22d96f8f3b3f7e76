/**
 * Releases side by side on the node (docs/updates.md): `<root>/releases/<version>/` each hold one
 * agent release, `<root>/current` is a symlink naming the one that runs, switched atomically
 * (a symlink under a temporary name, then rename over `current`). The state of an update in
 * progress lives in `<root>/update-state.json` (written durably), shared by the agent, which starts
 * an update, and the supervisor, which decides whether it stays or rolls back.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Compile } from 'typebox/compile';
import { Type, type Static } from 'typebox';
import { UpdateStateSchema } from '../../protocol/update.js';
import { readTextIfExists, syncDirectory, writeFileAtomic } from '../state/atomic-file.js';

export const DEFAULT_RELEASE_ROOT = '/opt/homenode';
/** Old releases kept besides the current and the previous one. */
export const DEFAULT_KEEP_OLD = 1;
const VERSION = /^[A-Za-z0-9.+~_-]{1,64}$/;

export interface ReleaseLayout {
  root: string;
  releases: string;
  current: string;
  stateFile: string;
  /** Written by a release's agent once its hello was welcomed: `<version> <startId>`. */
  healthFile: string;
  /** The outcome the agent has already reported (its `at`), so it is sent once per outcome. */
  reportedFile: string;
}

export function releaseLayout(root: string): ReleaseLayout {
  return {
    root,
    releases: join(root, 'releases'),
    current: join(root, 'current'),
    stateFile: join(root, 'update-state.json'),
    healthFile: join(root, 'healthy'),
    reportedFile: join(root, 'outcome-reported'),
  };
}

const PendingSchema = Type.Object({
  rolloutId: Type.String({ maxLength: 128 }),
  version: Type.String({ pattern: VERSION.source }),
  previous: Type.String({ pattern: VERSION.source }),
  startedAt: Type.Integer(),
  deadlineAt: Type.Integer(),
  /** How often the new release was started so far (bounded: a crash loop rolls back). */
  starts: Type.Integer({ minimum: 0 }),
});
const OutcomeSchema = Type.Object({
  rolloutId: Type.String({ maxLength: 128 }),
  version: Type.String({ pattern: VERSION.source }),
  state: UpdateStateSchema,
  error: Type.Optional(Type.String({ maxLength: 4096 })),
  at: Type.Integer(),
});
const UpdateStateFileSchema = Type.Object({
  pending: Type.Optional(PendingSchema),
  outcome: Type.Optional(OutcomeSchema),
  /** Versions that rolled back here: never installed again, whatever a server says. */
  rolledBack: Type.Array(Type.String({ pattern: VERSION.source }), { maxItems: 1000 }),
});
export type PendingUpdate = Static<typeof PendingSchema>;
export type UpdateOutcome = Static<typeof OutcomeSchema>;
export type UpdateStateFile = Static<typeof UpdateStateFileSchema>;
const checkState = Compile(UpdateStateFileSchema);

export function isReleaseVersion(version: string): boolean {
  return VERSION.test(version) && version !== '.' && version !== '..';
}

export async function readUpdateState(layout: ReleaseLayout): Promise<UpdateStateFile> {
  const text = await readTextIfExists(layout.stateFile);
  if (text === undefined) return { rolledBack: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${layout.stateFile} is not JSON; move it away to start without update state.`);
  }
  if (!checkState.Check(value))
    throw new Error(`${layout.stateFile} does not hold update state; move it away to start over.`);
  return value;
}

export async function writeUpdateState(layout: ReleaseLayout, state: UpdateStateFile): Promise<void> {
  await writeFileAtomic(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`, 0o644);
}

/** The version `current` names, or undefined when there is no `current`. */
export async function currentVersion(layout: ReleaseLayout): Promise<string | undefined> {
  try {
    const target = await readlink(layout.current);
    return basename(target);
  } catch {
    return undefined;
  }
}

export function releaseDir(layout: ReleaseLayout, version: string): string {
  if (!isReleaseVersion(version)) throw new Error(`"${version}" is not a release version.`);
  return join(layout.releases, version);
}

/** Points `current` at `releases/<version>` in one rename: a reader sees the old or the new one. */
export async function switchCurrent(layout: ReleaseLayout, version: string): Promise<void> {
  const dir = releaseDir(layout, version);
  await stat(dir);
  const temp = join(layout.root, `.current.${process.pid}.${randomBytes(4).toString('hex')}`);
  await symlink(join('releases', version), temp);
  try {
    await rename(temp, layout.current);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(layout.root);
}

/**
 * Removes old releases: `current`, `previous` (the one to roll back to) and the `keepOld` most
 * recently installed others stay. Unfinished installs (`.incoming-*`) are removed too.
 */
export async function pruneReleases(
  layout: ReleaseLayout,
  keep: string[],
  keepOld = DEFAULT_KEEP_OLD,
): Promise<string[]> {
  const entries = await readdir(layout.releases).catch(() => []);
  const others: { name: string; mtime: number }[] = [];
  const removed: string[] = [];
  for (const name of entries) {
    if (name.startsWith('.incoming-')) {
      await rm(join(layout.releases, name), { recursive: true, force: true });
      continue;
    }
    if (keep.includes(name)) continue;
    const info = await stat(join(layout.releases, name)).catch(() => undefined);
    if (info) others.push({ name, mtime: info.mtimeMs });
  }
  others.sort((a, b) => b.mtime - a.mtime);
  for (const { name } of others.slice(keepOld)) {
    await rm(join(layout.releases, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
