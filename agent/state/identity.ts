/** The node's Ed25519 key pair (DESIGN.md "Node identity"): generated once, kept in the state dir. */
import { exportJWK, generateKeyPair } from 'jose';
import type { Identity, StateStore } from './state-store.js';

export async function generateIdentity(now: () => number): Promise<Identity> {
  const { publicKey, privateKey } = await generateKeyPair('Ed25519', { extractable: true });
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  if (pub.kty !== 'OKP' || pub.crv !== 'Ed25519' || !pub.x || !priv.d) {
    throw new Error('the runtime did not produce an Ed25519 key pair');
  }
  return {
    version: 1,
    createdAt: new Date(now()).toISOString(),
    publicKey: { kty: 'OKP', crv: 'Ed25519', x: pub.x },
    privateKey: { kty: 'OKP', crv: 'Ed25519', x: pub.x, d: priv.d },
  };
}

/** The identity on disk, or a new one written durably before it is returned (and so before use). */
export async function loadOrCreateIdentity(store: StateStore, now: () => number): Promise<Identity> {
  const existing = await store.identity.load();
  if (existing) return existing;
  const identity = await generateIdentity(now);
  await store.identity.save(identity);
  return identity;
}
