/**
 * One-click unsubscribe (RFC 8058): every mail's `List-Unsubscribe` header names
 * `POST /v1/notifications/unsubscribe?token=…`, which mail programs call with the form body
 * `List-Unsubscribe=One-Click`; the link in the mail's text opens the dashboard's /unsubscribe page,
 * which shows what will stop (`GET`, changes nothing, since link scanners open links) and posts on a
 * click. The token is signed and good for nothing but turning mails off.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { OwnerRepository } from '../accounts/owner-repository.js';
import { LinkInvalidError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { errors } from '../core/schemas.js';
import type { PreferenceRepository } from './preference-repository.js';
import { KIND_LABELS, type MailCategory, unsubscribed, withDefaults } from './preferences.js';
import { UNSUBSCRIBE_TOKEN_PATTERN, verifyUnsubscribe } from './unsubscribe-token.js';

const Query = Type.Object({ token: Type.String({ pattern: UNSUBSCRIBE_TOKEN_PATTERN }) });
const Answer = Type.Object({
  address: Type.String(),
  category: Type.String(),
  description: Type.String({ description: 'what stops, in words' }),
  unsubscribed: Type.Boolean(),
});

const describe = (category: MailCategory): string =>
  category === 'account'
    ? 'every Home Node notification mail (mails you ask for, such as password resets, still come)'
    : category === 'ops'
      ? 'the operations notices of this Home Node server'
      : `mails when: ${KIND_LABELS[category].charAt(0).toLowerCase()}${KIND_LABELS[category].slice(1)}`;

export interface UnsubscribeDeps {
  owners: OwnerRepository;
  preferences: PreferenceRepository;
  key: Buffer;
  now: () => number;
}

export function unsubscribeRoutes(app: App, deps: UnsubscribeDeps): void {
  const open = (token: string) => {
    const found = verifyUnsubscribe(deps.key, token);
    if (!found)
      throw new LinkInvalidError(
        'This unsubscribe link is not valid. Copy the whole link from the mail, or change your choices on the dashboard under Settings.',
      );
    return found;
  };

  app.get(
    '/v1/notifications/unsubscribe',
    {
      schema: {
        tags: ['notifications'],
        summary: 'What an unsubscribe link would turn off (changes nothing)',
        querystring: Query,
        response: { 200: Answer, ...errors(400) },
      },
      config: { auth: 'public' },
    },
    async (request) => {
      const { address, category } = open(request.query.token);
      return { address, category, description: describe(category), unsubscribed: false };
    },
  );

  void app.register(async (scope) => {
    // RFC 8058: the mail program posts `List-Unsubscribe=One-Click` as a form; only here.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 1024 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      '/v1/notifications/unsubscribe',
      {
        schema: {
          tags: ['notifications'],
          summary: 'One-click unsubscribe (RFC 8058): turns off the mails the signed token names',
          querystring: Query,
          body: Type.Optional(
            Type.Object(
              { 'List-Unsubscribe': Type.Optional(Type.Literal('One-Click')) },
              { additionalProperties: false },
            ),
          ),
          response: { 200: Answer, ...errors(400) },
        },
        config: { auth: 'public' },
      },
      async (request) => {
        const { address, category } = open(request.query.token);
        const owner = category === 'ops' ? undefined : await deps.owners.getByEmail(address);
        if (owner) {
          const current = withDefaults(await deps.preferences.get(owner.id));
          await deps.preferences.put(owner.id, unsubscribed(current, category), deps.now());
        } else {
          await deps.preferences.suppress(address, category, deps.now());
        }
        return { address, category, description: describe(category), unsubscribed: true };
      },
    );
  });
}
