/** The sign-in providers of HOMENODE_OIDC_PROVIDERS, each as a `SignInProvider`. */
import type { SignInProviderConfig } from '../core/sign-in-providers-config.js';
import { createGithubProvider } from './github-provider-client.js';
import { createOidcProvider } from './oidc-provider-client.js';
import type { SignInProvider } from './sign-in-provider.js';

export function createSignInProviders(configs: readonly SignInProviderConfig[]): SignInProvider[] {
  return configs.map((c) => (c.kind === 'github' ? createGithubProvider(c) : createOidcProvider(c)));
}
