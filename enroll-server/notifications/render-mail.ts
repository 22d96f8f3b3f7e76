/**
 * An outbox row's mail: subject, plain text and HTML, written from its template and parameters
 * with the greeting and the footer (why you get it, one-click unsubscribe, your settings). The
 * same row always gives the same mail, so a retry sends what the first attempt would have. Pure.
 */
import { accountMail } from './account-mails.js';
import { type RenderedMail, renderDocument } from './mail-layout.js';
import type { MailBody, MailContext, MailParams } from './mail-params.js';
import { auditMail, machineMail, statementMail } from './machine-mails.js';
import { opsMail } from './ops-mails.js';
import type { MailCategory } from './preferences.js';

export interface RenderContext extends MailContext {
  unsubscribeUrl: string;
  settingsUrl: string;
  pendingMinutes: number;
}

const REASONS: Record<'account' | 'ops' | 'owner', string> = {
  account: 'You get this mail because this address was used for a Home Node account.',
  owner: 'You get this mail because you have a machine on Home Node.',
  ops: 'You get this mail because this address is set as the operations contact of this Home Node server (HOMENODE_OPS_EMAIL).',
};

function body(params: MailParams, ctx: RenderContext, createdAt: number): MailBody {
  const { event } = params;
  switch (event.type) {
    case 'account.verify-email':
    case 'account.password-reset':
    case 'account.password-changed':
    case 'account.welcome':
      return accountMail(event, params, ctx, createdAt);
    case 'node.approved':
    case 'node.rejected':
    case 'node.revoked':
    case 'node.offline':
    case 'node.online':
      return machineMail(event, ctx);
    case 'audit.failed':
    case 'audit.passed':
      return auditMail(event, ctx);
    case 'statement.locked':
      return statementMail(event, params, ctx);
    case 'ops.pending-waiting':
    case 'ops.nodes-dropped':
      return opsMail(event, ctx, ctx.pendingMinutes);
    case 'node.enrolled':
      throw new Error('node.enrolled has no mail');
  }
}

export function renderMail(
  params: MailParams,
  category: MailCategory,
  ctx: RenderContext,
  createdAt: number,
): RenderedMail {
  const { subject, blocks } = body(params, ctx, createdAt);
  const audience = category === 'account' || category === 'ops' ? category : 'owner';
  return renderDocument({
    subject,
    greeting: params.name ? `Hello ${params.name},` : 'Hello,',
    blocks,
    footer: {
      reason: REASONS[audience],
      unsubscribeUrl: ctx.unsubscribeUrl,
      settingsUrl: audience === 'ops' ? null : ctx.settingsUrl,
    },
  });
}
