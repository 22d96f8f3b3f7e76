/**
 * Registering webhooks: admin and ops for every machine, owners for their own machines only. The
 * URL is checked against the address policy (and its name resolved) before it is stored; the
 * signing secret is the caller's or a new random one, sealed at rest and shown only in the answer
 * that creates it. Another owner's webhook is "not found".
 */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { ActivityLog } from '../core/activity-log.js';
import { type Principal, actorOf } from '../core/auth.js';
import type { WebhookEventType } from '../core/domain-events.js';
import { ConflictError, NotFoundError, WebhookUrlRefusedError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { seal } from '../core/server-secret.js';
import type { Transactional } from '../core/transactions.js';
import { checkWebhookUrl, isBlockedAddress } from './webhook-address-policy.js';
import type { DeliveryRecord, WebhookRecord, WebhookRepository } from './webhook-repository.js';

/** Live webhooks one owner may have, and staff altogether. */
export const WEBHOOK_LIMITS = { perOwner: 10, staff: 100 } as const;

export interface CreateWebhookInput {
  url: string;
  events: WebhookEventType[];
  secret?: string;
}

export interface WebhookServiceDeps {
  repos: Transactional<{ webhooks: WebhookRepository; activity: ActivityLog }>;
  secretKey: Buffer;
  allowPrivateAddresses: boolean;
  now: () => number;
  /** DNS, passed in so that tests can run without a resolver for real names. */
  resolve?: (host: string) => Promise<string[]>;
}

const defaultResolve = async (host: string) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export function createWebhookService(deps: WebhookServiceDeps) {
  const { repos, now } = deps;
  const resolve = deps.resolve ?? defaultResolve;

  async function checkUrl(text: string): Promise<string> {
    const check = checkWebhookUrl(text, deps.allowPrivateAddresses);
    if (!check.ok)
      throw new WebhookUrlRefusedError(`The webhook URL ${check.problem}.`, {
        details: [{ field: 'url', message: check.problem }],
      });
    if (check.literalAddress === null && !deps.allowPrivateAddresses) {
      const host = check.url.hostname;
      let addresses: string[];
      try {
        addresses = await resolve(host);
      } catch {
        throw new WebhookUrlRefusedError(
          `The webhook URL's host ${host} does not resolve. Check the name, or use an address.`,
          {
            details: [{ field: 'url', message: 'does not resolve' }],
          },
        );
      }
      const bad = addresses.find(isBlockedAddress);
      if (bad)
        throw new WebhookUrlRefusedError(
          `The webhook URL's host ${host} resolves to ${bad}, a loopback, private or reserved address this server does not send to.`,
          { details: [{ field: 'url', message: `resolves to ${bad}` }] },
        );
    }
    return check.url.href;
  }

  /** A webhook the principal may see. */
  async function visible(principal: Principal, id: string): Promise<WebhookRecord> {
    const hook = await repos.webhooks.get(id);
    if (!hook || (principal.role === 'owner' && hook.ownerId !== principal.ownerId))
      throw new NotFoundError(`Webhook ${id} not found.`);
    return hook;
  }

  return {
    async create(
      principal: Principal,
      input: CreateWebhookInput,
    ): Promise<{ hook: WebhookRecord; secret: string }> {
      const url = await checkUrl(input.url);
      const ownerId = principal.role === 'owner' ? principal.ownerId : null;
      const secret = input.secret ?? `whsec_${randomBytes(32).toString('base64url')}`;
      const id = newId('whk');
      const hook: WebhookRecord = {
        id,
        url,
        events: [...new Set(input.events)],
        secretSealed: seal(deps.secretKey, secret, id),
        ownerId,
        createdBy: principal.tokenId,
        createdAt: now(),
        deletedAt: null,
      };
      await repos.transaction(async (tx) => {
        const existing = await tx.webhooks.list(ownerId);
        const limit = ownerId ? WEBHOOK_LIMITS.perOwner : WEBHOOK_LIMITS.staff;
        if (existing.length >= limit)
          throw new ConflictError(
            `There are ${existing.length} webhooks already, the most allowed here. Delete one you no longer use first.`,
          );
        await tx.webhooks.create(hook);
        await tx.activity.record(
          hook.createdAt,
          actorOf(principal),
          'webhook.created',
          { type: 'webhook', id },
          { url, events: hook.events, ownerId },
        );
      });
      return { hook, secret };
    },

    /** Staff see every webhook; an owner sees their own. */
    list(principal: Principal): Promise<WebhookRecord[]> {
      return repos.webhooks.list(principal.role === 'owner' ? (principal.ownerId ?? '') : undefined);
    },

    async remove(principal: Principal, id: string): Promise<WebhookRecord> {
      const hook = await visible(principal, id);
      const at = now();
      await repos.transaction(async (tx) => {
        if (await tx.webhooks.delete(id, at))
          await tx.activity.record(
            at,
            actorOf(principal),
            'webhook.deleted',
            { type: 'webhook', id },
            { url: hook.url },
          );
      });
      return { ...hook, deletedAt: at };
    },

    async deliveries(
      principal: Principal,
      id: string,
      limit: number,
    ): Promise<{ delivery: DeliveryRecord; attempts: Awaited<ReturnType<WebhookRepository['attempts']>> }[]> {
      await visible(principal, id);
      const list = await repos.webhooks.deliveries(id, limit);
      return Promise.all(
        list.map(async (delivery) => ({ delivery, attempts: await repos.webhooks.attempts(delivery.id) })),
      );
    },
  };
}
export type WebhookService = ReturnType<typeof createWebhookService>;
