/**
 * Attestation routes: the auditor's public key, a node's attestation (ops, reviewers, the owner;
 * another owner's node is 404), the provider's attributes (public) and their on-chain publication
 * (ops), SDL placement (ops, reviewers; YAML body, at most 256 KiB), the public performance board
 * and a machine's standing in it (ops, reviewers, the owner).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { MAX_SDL_BYTES } from '../../protocol/akash/index.js';
import { principalOf } from '../core/auth.js';
import { UnsupportedMediaTypeError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { IdParams, errors } from '../core/schemas.js';
import type { NodeService } from '../nodes/node-service.js';
import type { AttestationService } from './attestation-service.js';
import {
  AttestationSchema,
  AuditorSchema,
  ChainPublicationSchema,
  PerformanceSchema,
  PlacementMatchSchema,
  ProviderAttributesSchema,
  StandingSchema,
} from './schemas.js';

export interface AttestationRouteDeps {
  attestations: AttestationService;
  nodes: NodeService;
}

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

export function attestationRoutes(app: App, ctx: AttestationRouteDeps): void {
  const { attestations, nodes } = ctx;

  app.get(
    '/v1/auditor',
    {
      schema: {
        tags: ['attestations'],
        summary: "The auditor's id (as SDLs name it in signedBy) and public key",
        response: { 200: AuditorSchema },
      },
      config: { auth: 'public' },
    },
    async () => ({ auditorId: attestations.auditorId, publicKey: attestations.publicKey }),
  );

  app.get(
    '/v1/nodes/:id/attestation',
    {
      schema: {
        tags: ['attestations'],
        summary: "The node's attestation: what its last passing audit verified, signed by the auditor",
        params: IdParams,
        response: { 200: AttestationSchema, ...errors(401, 403, 404) },
      },
      config: { auth: ['admin', 'ops', 'reviewer', 'owner'] },
    },
    async (request) => {
      const node = await nodes.get(principalOf(request), request.params.id);
      return { jws: await attestations.attestation(node) };
    },
  );

  app.get(
    '/v1/provider/attributes',
    {
      schema: {
        tags: ['attestations'],
        summary: 'The attributes the managed provider may advertise, from attested nodes only (signed)',
        response: { 200: ProviderAttributesSchema },
      },
      config: { auth: 'public' },
    },
    async () => attestations.providerAttributes(),
  );

  app.get(
    '/v1/provider/attributes/publication',
    {
      schema: {
        tags: ['attestations'],
        summary: "The transaction message and command line that sign the provider's attributes on chain",
        response: { 200: ChainPublicationSchema, ...errors(400, 401, 403) },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async () => attestations.publication(),
  );

  app.get(
    '/v1/performance',
    {
      schema: {
        tags: ['attestations'],
        summary: 'The public performance board: per GPU class, attested nodes and benchmark quantiles',
        response: { 200: PerformanceSchema },
      },
      config: { auth: 'public' },
    },
    async () => {
      const board = await attestations.performance();
      return { ...board, generatedAt: new Date(board.generatedAt).toISOString() };
    },
  );

  app.get(
    '/v1/nodes/:id/performance',
    {
      schema: {
        tags: ['attestations'],
        summary: 'Where the machine stands in its GPU class, per benchmark figure',
        params: IdParams,
        response: { 200: StandingSchema, ...errors(401, 403, 404) },
      },
      config: { auth: ['admin', 'ops', 'reviewer', 'owner'] },
    },
    async (request) => {
      const node = await nodes.get(principalOf(request), request.params.id);
      const classes = await attestations.standing(node);
      return { attested: classes !== undefined, classes: classes ?? [] };
    },
  );

  // The SDL arrives as YAML text, in its own scope so that no other route parses YAML bodies.
  void app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(
      YAML_TYPES,
      { parseAs: 'string', bodyLimit: MAX_SDL_BYTES },
      (_r, body, done) => done(null, body),
    );
    scope.post(
      '/v1/placements/match',
      {
        schema: {
          tags: ['attestations'],
          summary: 'Which placements of an Akash SDL (YAML, application/yaml) the attested fleet can serve',
          consumes: YAML_TYPES,
          body: Type.String({ maxLength: MAX_SDL_BYTES }),
          response: { 200: PlacementMatchSchema, ...errors(400, 401, 403, 413, 415) },
        },
        config: { auth: ['admin', 'ops', 'reviewer'] },
        bodyLimit: MAX_SDL_BYTES,
      },
      async (request) => {
        const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (!YAML_TYPES.includes(type))
          throw new UnsupportedMediaTypeError('Send the SDL as YAML with "Content-Type: application/yaml".');
        return { placements: await attestations.match(request.body) };
      },
    );
  });
}
