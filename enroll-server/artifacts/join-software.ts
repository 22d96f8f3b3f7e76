/**
 * What every join installs (control/join.ts `JoinSoftwareSource`): the k3s artifact (the version
 * `HOMENODE_K3S_VERSION` pins, else the newest uploaded) and the runtime packages of
 * `HOMENODE_NODE_PACKAGES` (by default the NVIDIA container toolkit's four), each the pinned or
 * newest version; a name never uploaded is left out. URLs are paths on this server, so a node
 * downloads from the very origin it talks to.
 */
import { K3S_ARTIFACT, artifactPath } from '../../protocol/artifacts.js';
import type { ArtifactRef, PackageRef } from '../../protocol/control.js';
import type { ArtifactChoice } from '../core/config.js';
import type { JoinSoftware, JoinSoftwareSource } from '../control/join.js';
import type { ArtifactRecord, ArtifactRepository } from './artifact-repository.js';

const ref = (a: ArtifactRecord): ArtifactRef => ({
  version: a.version,
  sha256: a.sha256,
  size: a.size,
  url: artifactPath(a.name, a.version),
  signature: a.signature,
});

export function createJoinSoftware(deps: {
  artifacts: Pick<ArtifactRepository, 'get' | 'newest'>;
  k3sVersion?: string;
  packages: ArtifactChoice[];
  warn: (message: string) => void;
}): JoinSoftwareSource {
  const pick = async (choice: ArtifactChoice): Promise<ArtifactRecord | undefined> => {
    const found = choice.version
      ? await deps.artifacts.get(choice.name, choice.version)
      : await deps.artifacts.newest(choice.name);
    if (!found && choice.version) {
      deps.warn(`${choice.name} ${choice.version} is pinned but was never uploaded: joins go without it.`);
    }
    return found;
  };
  return async (): Promise<JoinSoftware> => {
    const k3s = await pick({ name: K3S_ARTIFACT, ...(deps.k3sVersion ? { version: deps.k3sVersion } : {}) });
    const packages: PackageRef[] = [];
    for (const choice of deps.packages) {
      const found = await pick(choice);
      if (found) packages.push({ name: found.name, ...ref(found) });
    }
    return { ...(k3s ? { k3s: ref(k3s) } : {}), packages };
  };
}
