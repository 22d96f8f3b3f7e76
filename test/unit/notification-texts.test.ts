/**
 * What the mails say: each one names what happened and what to do, in plain text and in HTML with
 * every value escaped; subjects stay on one line. And the accounts configuration: the providers
 * file and the mail variables, with errors that name the variable and what to write.
 */
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../enroll-server/core/domain-events.js';
import { loadAccountsConfig } from '../../enroll-server/core/accounts-config.js';
import { loadProvidersFile } from '../../enroll-server/core/sign-in-providers-config.js';
import { duration, usd, utcTime } from '../../enroll-server/notifications/mail-format.js';
import type { MailCategory } from '../../enroll-server/notifications/preferences.js';
import { type RenderContext, renderMail } from '../../enroll-server/notifications/render-mail.js';

const URL_ = 'https://homenode.example.com';
const ctx: RenderContext = {
  publicUrl: URL_,
  linkUrl: (purpose, id) => `${URL_}/${purpose}?token=${id}-token`,
  unsubscribeUrl: `${URL_}/unsubscribe?token=u`,
  settingsUrl: `${URL_}/settings`,
  pendingMinutes: 60,
};
const AT = Date.parse('2026-12-01T14:40:00Z');

const render = (event: DomainEvent, category: MailCategory = 'nodeOffline', extra = {}) =>
  renderMail({ event, name: 'Ada', email: 'ada@example.com', ...extra }, category, ctx, AT);

describe('notification texts', () => {
  it('says when a machine went offline, what to check, and that it is paid again once back', () => {
    const mail = render({
      type: 'node.offline',
      nodeId: 'node_abc',
      ownerId: 'own_a',
      since: Date.parse('2026-12-01T14:05:00Z'),
    });
    expect(mail.subject).toBe('Your machine node_abc is offline');
    expect(mail.text).toContain(
      "Your machine 'node_abc' has been offline since 14:05 UTC on 1 Dec 2026. Check that it is on and connected; it will be paid again from the minute it is back.",
    );
    expect(mail.text).toMatch(/1\. Check that the machine is switched on/);
    expect(mail.text).toContain(`Stop these mails with one click: ${URL_}/unsubscribe?token=u`);
    expect(mail.text).toContain(`Choose what you hear about: ${URL_}/settings`);
    expect(mail.html).toContain('<ol');
  });

  it('quotes a rejection reason and escapes it in HTML', () => {
    const mail = render(
      {
        type: 'node.rejected',
        nodeId: 'node_abc',
        ownerId: 'own_a',
        reason: 'GPU <script>alert(1)</script> & "fans"',
      },
      'nodeRejected',
    );
    expect(mail.text).toContain('“GPU <script>alert(1)</script> & "fans"”');
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('GPU &#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;fans&#34;');
    expect(mail.text).toContain('What to do:');
  });

  it('lists what an audit found with the fix and the guide, on this server or as given', () => {
    const mail = render(
      {
        type: 'audit.failed',
        nodeId: 'node_abc',
        ownerId: 'own_a',
        auditId: 'aud_1',
        failedChecks: [
          { id: 'disk', summary: 'The data disk is 97% full', fix: 'Free some space', docUrl: '' },
          {
            id: 'gpu-runtime',
            summary: 'No nvidia runtime.',
            fix: 'Reinstall.',
            docUrl: 'https://docs.example.com/gpu',
          },
        ],
      },
      'auditFailed',
    );
    expect(mail.subject).toBe('Your machine node_abc failed its check: disk, gpu-runtime');
    expect(mail.text).toContain(
      `- The data disk is 97% full. What to do: Free some space. Guide: ${URL_}/docs/troubleshooting#disk`,
    );
    expect(mail.text).toContain(
      '- No nvidia runtime. What to do: Reinstall. Guide: https://docs.example.com/gpu',
    );
    expect(mail.text).toContain('work it has already done is paid as always');
  });

  it("writes an owner's part of a locked statement in dollars, exactly", () => {
    const mail = render(
      {
        type: 'statement.locked',
        periodId: 'per_1',
        start: Date.parse('2026-11-16T00:00:00Z'),
        end: Date.parse('2026-11-23T00:00:00Z'),
        hash: 'h',
        totalUusd: '99',
        owners: [],
      },
      'statementLocked',
      { share: { ownerId: 'own_a', totalUusd: '1234567895', nodeIds: ['node_a', 'node_b'] } },
    );
    expect(mail.subject).toBe('Your Home Node statement for 16 Nov 2026 to 22 Nov 2026: $1,234.57');
    expect(mail.text).toContain('Your 2 machines earned $1,234.57 in that period.');
  });

  it('links the confirmation and the reset with their tokens, and says how long they work', () => {
    const verify = render({ type: 'account.verify-email', ownerId: 'own_a', tokenId: 'eml_1' }, 'account');
    expect(verify.text).toContain(`${URL_}/verify-email?token=eml_1-token`);
    expect(verify.text).toContain('You get this mail because this address was used for a Home Node account.');
    const reset = render({ type: 'account.password-reset', ownerId: 'own_a', tokenId: 'eml_2' }, 'account');
    expect(reset.text).toContain(`${URL_}/password-reset?token=eml_2-token`);
    expect(reset.text).toContain('for 60 minutes');
    const changed = render({ type: 'account.password-changed', ownerId: 'own_a' }, 'account');
    expect(changed.text).toContain('changed at 14:40 UTC on 1 Dec 2026');
  });

  it('keeps subjects on one line whatever a node id or name holds', () => {
    const mail = render(
      { type: 'node.approved', nodeId: 'node_x\r\nBcc: eve@example.com', ownerId: 'own_a', note: null },
      'nodeApproved',
    );
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });

  it('tells ops which machines wait and where to review them, without settings links', () => {
    const mail = renderMail(
      {
        event: {
          type: 'ops.pending-waiting',
          nodes: [{ nodeId: 'node_p', ownerId: 'own_p', since: Date.parse('2026-12-01T12:00:00Z') }],
        },
        name: '',
        email: 'ops@example.com',
      },
      'ops',
      ctx,
      AT,
    );
    expect(mail.text).toMatch(/^Hello,/);
    expect(mail.text).toContain('node_p (owner own_p), pending since 12:00 UTC on 1 Dec 2026');
    expect(mail.text).not.toContain('Choose what you hear about');
  });

  it('formats times, durations and money plainly', () => {
    expect(utcTime(Date.parse('2026-01-05T09:07:00Z'))).toBe('09:07 UTC on 5 Jan 2026');
    expect(duration(31 * 60_000)).toBe('31 minutes');
    expect(duration(125 * 60_000)).toBe('2 hours 5 minutes');
    expect(duration(26 * 3_600_000)).toBe('1 day 2 hours');
    expect(usd('4999')).toBe('$0.00');
    expect(usd('5000')).toBe('$0.01');
    expect(usd('-2500000')).toBe('-$2.50');
  });
});

describe('accounts configuration', () => {
  const providers = (text: string) => loadProvidersFile('/etc/homenode/providers.json', () => text);

  it('reads OpenID Connect providers and GitHub with its default endpoints', () => {
    const list = providers(
      JSON.stringify([
        {
          id: 'google',
          name: 'Google',
          issuer: 'https://accounts.google.com',
          clientId: 'id',
          clientSecret: 'secret',
        },
        { id: 'github', type: 'github', clientId: 'gid', clientSecret: 'gsecret' },
      ]),
    );
    expect(list[0]).toMatchObject({ kind: 'oidc', id: 'google', issuer: 'https://accounts.google.com' });
    expect(list[1]).toMatchObject({
      kind: 'github',
      name: 'GitHub',
      authorizeUrl: 'https://github.com/login/oauth/authorize',
      emailsUrl: 'https://api.github.com/user/emails',
    });
  });

  it('refuses a providers file that is not JSON, misses a field, uses http off loopback or repeats an id', () => {
    expect(() => providers('{')).toThrow(
      /HOMENODE_OIDC_PROVIDERS="\/etc\/homenode\/providers.json": cannot read it as JSON/,
    );
    expect(() => providers('[{"id":"x","issuer":"https://a.example"}]')).toThrow(/must be a JSON array of/);
    expect(() =>
      providers('[{"id":"x","issuer":"http://idp.example.com","clientId":"a","clientSecret":"b"}]'),
    ).toThrow(/must be an https:\/\/ URL \(http:\/\/ only on a loopback address\)/);
    const one = { id: 'x', issuer: 'https://a.example', clientId: 'a', clientSecret: 'b' };
    expect(() => providers(JSON.stringify([one, one]))).toThrow(/names the provider 'x' twice/);
  });

  it('checks the mail variables and hides SMTP credentials in errors', () => {
    const config = loadAccountsConfig(
      {
        HOMENODE_SMTP_URL: 'smtps://u:p@mail.example.com:465',
        HOMENODE_OPS_EMAIL: 'a@example.com, b@example.com',
      },
      'https://homenode.example.com',
    );
    expect(config).toMatchObject({
      mailFrom: 'Home Node <no-reply@homenode.example.com>',
      opsEmails: ['a@example.com', 'b@example.com'],
    });
    expect(() =>
      loadAccountsConfig({ HOMENODE_SMTP_URL: 'http://u:secretpw@mail.example.com' }, URL_),
    ).toThrow(
      /^HOMENODE_SMTP_URL="http:\/\/\(credentials hidden\)@mail.example.com": must be an smtp:\/\/ or smtps:\/\/ URL/,
    );
    expect(() => loadAccountsConfig({ HOMENODE_MAIL_FROM: 'x\nBcc: y@example.com' }, URL_)).toThrow(
      /HOMENODE_MAIL_FROM/,
    );
    expect(() => loadAccountsConfig({ HOMENODE_MAIL_RETRY_SECONDS: '10,soon' }, URL_)).toThrow(
      /HOMENODE_MAIL_RETRY_SECONDS/,
    );
    expect(loadAccountsConfig({ HOMENODE_MAIL_RETRY_SECONDS: '5,60' }, URL_).mailRetry.delaysMs).toEqual([
      5000, 60_000,
    ]);
  });
});
