/** Mails about the account itself: confirm the address, reset the password, welcome. Pure. */
import type { AccountEvent } from '../core/domain-events.js';
import { utcTime } from './mail-format.js';
import type { MailBody, MailContext, MailParams } from './mail-params.js';

export function accountMail(event: AccountEvent, params: MailParams, ctx: MailContext, at: number): MailBody {
  const { publicUrl } = ctx;
  switch (event.type) {
    case 'account.verify-email':
      return {
        subject: 'Confirm your email address for Home Node',
        blocks: [
          {
            p: `Confirm that ${params.email} is your address to finish setting up your Home Node account. Then you can create an installation key and add your first machine.`,
          },
          { button: { label: 'Confirm my email address', url: ctx.linkUrl('verify-email', event.tokenId) } },
          {
            p: 'The link works once, for 72 hours. If it has expired, sign in and ask for a new one on the dashboard.',
          },
          { p: 'If you did not sign up for Home Node, ignore this mail: nothing happens without the link.' },
        ],
      };
    case 'account.password-reset':
      return {
        subject: 'Reset your Home Node password',
        blocks: [
          {
            p: `Someone, hopefully you, asked to reset the password for ${params.email}. Choose a new password here:`,
          },
          { button: { label: 'Choose a new password', url: ctx.linkUrl('password-reset', event.tokenId) } },
          {
            p: 'The link works once, for 60 minutes. Choosing a new password signs you out on every other device.',
          },
          { p: 'If you did not ask for this, ignore this mail: your password stays as it is.' },
        ],
      };
    case 'account.password-changed':
      return {
        subject: 'Your Home Node password was changed',
        blocks: [
          {
            p: `The password for ${params.email} was changed at ${utcTime(at)}. Every other session was signed out.`,
          },
          {
            p: `If you did not do this, someone else may have access to your mailbox: change your email password first, then reset your Home Node password at ${publicUrl}/reset-password.`,
          },
        ],
      };
    case 'account.welcome':
      return {
        subject: 'Welcome to Home Node: set up your first machine',
        blocks: [
          {
            p: 'Your address is confirmed. Here is how to add your GPU machine; it takes about 20 minutes, most of it waiting for the machine to start.',
          },
          {
            steps: [
              `Download the Home Node USB image: ${publicUrl}/download/homenode.iso (its SHA-256 checksum: ${publicUrl}/download/homenode.iso.sha256).`,
              'Write it to a USB stick of 4 GB or more with balenaEtcher or Rufus. This erases the stick.',
              `Create an installation key on the dashboard: ${publicUrl}/machines/add`,
              'Connect the GPU machine to your router with a network cable, plug in the stick and start the machine from USB (the boot menu key is often F12, F11 or Esc).',
              'When the screen asks for it, type the installation key. The machine checks its hardware and installs itself.',
              'Our operations team then approves the machine; we mail you when it is approved and earning.',
            ],
          },
          { button: { label: 'Download the USB image', url: `${publicUrl}/download/homenode.iso` } },
        ],
      };
  }
}
