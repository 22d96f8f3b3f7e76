/**
 * Akash's placement rules, pure: parse an SDL, turn GPU requests into Akash's attribute keys,
 * match keys and `signedBy` as Akash does, and tell whether our fleet can serve each placement.
 * See docs/placement.md.
 */
export { parseSdl, MAX_SDL_BYTES } from './sdl/parse-sdl.js';
export { gpuAttributeKeys, gpuRequestKey, providerGpuKey } from './gpu-keys.js';
export { keyMatches, PROVIDER_KEY_PATTERN, REQUIREMENT_KEY_PATTERN } from './key-pattern.js';
export { attributeSatisfies, attributesSubsetOf, gpuCapabilities } from './attribute-match.js';
export { evaluateSignedBy, type SignedByVerdict } from './signed-by.js';
export { matchPlacements, type MatchOptions } from './placement-match.js';
export type * from './types.js';
