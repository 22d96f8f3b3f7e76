/**
 * Artifacts (DESIGN.md "Software on the node, and updates"): content-addressed files the server
 * hands to nodes (k3s, GPU runtime packages, the ISO itself), each signed by the server's release
 * key as a compact JWS over `{ name, version, sha256, size }`. The names, patterns and the
 * signature check are shared by the server (which signs), the agent (which refuses what does not
 * verify) and the operator CLI. Pure: crypto, no I/O.
 */
import { type JWK, compactVerify, importJWK } from 'jose';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

/** The k3s binary a node installs at join. */
export const K3S_ARTIFACT = 'k3s';
/** The installer image home users download (`GET /download/homenode.iso`). */
export const ISO_ARTIFACT = 'homenode-iso';
/** The NVIDIA container toolkit's Debian packages, in the order `dpkg -i` is given them. */
export const NVIDIA_TOOLKIT_PACKAGES = [
  'libnvidia-container1',
  'libnvidia-container-tools',
  'nvidia-container-toolkit-base',
  'nvidia-container-toolkit',
] as const;

/** `aud` of the node JWT that downloads an artifact (a control-channel token is not accepted). */
export const ARTIFACT_AUDIENCE = 'homenode-artifacts';
/** `typ` of the release key's signature. */
export const ARTIFACT_SIGNATURE_TYPE = 'homenode-artifact+jws';
/** Largest artifact a node accepts in a join (1 TiB; the server's upload cap is lower). */
export const MAX_ARTIFACT_BYTES = 2 ** 40;

/** Lower-case name, as Debian package names: `k3s`, `homenode-iso`, `nvidia-container-toolkit`. */
export const ARTIFACT_NAME_PATTERN = '^[a-z0-9](?:[a-z0-9.+-]{0,62}[a-z0-9])?$';
/** A version as upstream writes it: `v1.31.4+k3s1`, `1.17.3-1`, `2026.11.1`. */
export const ARTIFACT_VERSION_PATTERN = '^[A-Za-z0-9](?:[A-Za-z0-9.+~_-]{0,62}[A-Za-z0-9])?$';
export const SHA256_PATTERN = '^[0-9a-f]{64}$';
/** A compact JWS: three base64url parts. */
export const COMPACT_JWS_PATTERN = '^[A-Za-z0-9_-]{1,1024}\\.[A-Za-z0-9_-]{1,1024}\\.[A-Za-z0-9_-]{86}$';

export const ArtifactNameSchema = Type.String({ pattern: ARTIFACT_NAME_PATTERN, maxLength: 64 });
export const ArtifactVersionSchema = Type.String({ pattern: ARTIFACT_VERSION_PATTERN, maxLength: 64 });
export const Sha256Schema = Type.String({ pattern: SHA256_PATTERN, maxLength: 64 });
export const ArtifactSizeSchema = Type.Integer({ minimum: 1, maximum: MAX_ARTIFACT_BYTES });

/** What the release key signs. */
export const ArtifactClaimsSchema = Type.Object({
  name: ArtifactNameSchema,
  version: ArtifactVersionSchema,
  sha256: Sha256Schema,
  size: ArtifactSizeSchema,
});
export type ArtifactClaims = Static<typeof ArtifactClaimsSchema>;
const checkClaims = Compile(ArtifactClaimsSchema);

/** The release key as the server publishes it and the ISO carries it: an Ed25519 public JWK. */
export const ReleaseKeySchema = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
  kid: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' })),
  alg: Type.Optional(Type.Literal('EdDSA')),
  use: Type.Optional(Type.Literal('sig')),
});
export type ReleaseKey = Static<typeof ReleaseKeySchema>;

/** `/v1/artifacts/<name>/<version>`, escaped (a `+` in a version stays a `+` only when escaped). */
export function artifactPath(name: string, version: string): string {
  return `/v1/artifacts/${encodeURIComponent(name)}/${encodeURIComponent(version)}`;
}

const isRegex = (pattern: string) => new RegExp(pattern);
const NAME = isRegex(ARTIFACT_NAME_PATTERN);
const VERSION = isRegex(ARTIFACT_VERSION_PATTERN);
export const isArtifactName = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= 64 && NAME.test(value);
export const isArtifactVersion = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= 64 && VERSION.test(value);

export type SignatureCheck = { ok: true } | { ok: false; problem: string };

const sameClaims = (a: ArtifactClaims, b: ArtifactClaims) =>
  a.name === b.name && a.version === b.version && a.sha256 === b.sha256 && a.size === b.size;

/**
 * Checks that `jws` is the release key's signature over exactly `expected` (name, version,
 * SHA-256 and size). The problem, when there is one, is a sentence for the node's screen.
 */
export async function verifyArtifactSignature(
  jws: string,
  releaseKey: JWK,
  expected: ArtifactClaims,
): Promise<SignatureCheck> {
  const what = `${expected.name} ${expected.version}`;
  let payload: Uint8Array;
  try {
    const key = await importJWK(releaseKey, 'EdDSA');
    const verified = await compactVerify(jws, key, { algorithms: ['EdDSA'] });
    if (verified.protectedHeader.typ !== ARTIFACT_SIGNATURE_TYPE) {
      return { ok: false, problem: `the signature of ${what} is not an artifact signature` };
    }
    payload = verified.payload;
  } catch {
    return {
      ok: false,
      problem: `the signature of ${what} does not verify with this machine's release key`,
    };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return { ok: false, problem: `the signature of ${what} signs something that is not JSON` };
  }
  if (!checkClaims.Check(claims) || !sameClaims(claims, expected)) {
    return {
      ok: false,
      problem: `the signature of ${what} was made for a different file (name, version, SHA-256 or size differ)`,
    };
  }
  return { ok: true };
}
