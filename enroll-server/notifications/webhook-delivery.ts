/**
 * One webhook request: POST the signed body, connect only to an address the policy allows
 * (checked on the address the connection uses), follow no redirect, give up after a timeout, read
 * at most a small part of the answer. A 2xx answer is a delivery; anything else is tried again.
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkWebhookUrl, isBlockedAddress } from './webhook-address-policy.js';

export interface DeliveryOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface DeliveryResult {
  /** The receiver's HTTP status, or null when none came. */
  status: number | null;
  error: string | null;
  durationMs: number;
}

export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** DNS, then the policy on every address the name has. */
const guardedLookup =
  (allowPrivate: boolean): LookupFunction =>
  (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = Array.isArray(addresses) ? addresses : [];
      const bad = list.find((a) => isBlockedAddress(a.address));
      if (!allowPrivate && bad) {
        return callback(
          new Error(`${hostname} resolves to ${bad.address}, an address this server does not send to`),
          '',
          0,
        );
      }
      const first = list[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      if (options.all) return callback(null, list);
      return callback(null, first.address, first.family);
    });
  };

export function deliverWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: DeliveryOptions,
): Promise<DeliveryResult> {
  const started = Date.now();
  const done = (status: number | null, error: string | null): DeliveryResult => ({
    status,
    error,
    durationMs: Date.now() - started,
  });
  const check = checkWebhookUrl(url, options.allowPrivate);
  if (!check.ok) return Promise.resolve(done(null, `the URL ${check.problem}`));
  const send = check.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: DeliveryResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(
      check.url,
      {
        method: 'POST',
        agent: false,
        lookup: guardedLookup(options.allowPrivate),
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > options.maxResponseBytes) res.destroy();
        });
        res.on('close', () => {
          if (status >= 200 && status < 300) return finish(done(status, null));
          if (status >= 300 && status < 400)
            return finish(
              done(
                status,
                `the receiver answered ${status} (a redirect); redirects are not followed, so give the final URL`,
              ),
            );
          return finish(done(status, `the receiver answered ${status}`));
        });
        res.on('error', () => undefined);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(done(null, `no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on('error', (error) => finish(done(null, error.message)));
    req.end(body);
  });
}
