/**
 * The add-machine page's "Get the USB image" card: the newest installer image (`GET /v1/downloads`)
 * with its size and SHA-256, how to check the download, and how to write it to a USB stick on
 * Windows, macOS and Linux. When no image was published it says who to ask.
 */
import { api, errorText } from '../api.js';
import { h, notice, replace } from '../dom.js';
import { bytes, dateOnly } from '../format.js';

interface Downloads {
  iso: {
    version: string;
    sha256: string;
    size: number;
    url: string;
    checksumUrl: string;
    uploadedAt: string;
  } | null;
}

const command = (text: string) => h('pre', { class: 'command' }, h('code', null, text));

function howToWrite(): HTMLElement {
  return h(
    'div',
    { class: 'usb-howto' },
    h(
      'details',
      null,
      h('summary', null, 'Windows'),
      h(
        'p',
        null,
        'Install Rufus or balenaEtcher. Choose homenode.iso and your USB stick, then Start (Flash in Etcher). ',
        'If Rufus asks, choose "Write in DD Image mode". Everything on the stick is erased.',
      ),
      h('p', null, 'To check the download first, in PowerShell:'),
      command('certutil -hashfile homenode.iso SHA256'),
    ),
    h(
      'details',
      null,
      h('summary', null, 'macOS'),
      h(
        'p',
        null,
        'balenaEtcher works as on Windows. Or in Terminal: find the stick (for example /dev/disk4) with',
      ),
      command('diskutil list'),
      h('p', null, 'then, with that number:'),
      command(
        'shasum -a 256 homenode.iso\ndiskutil unmountDisk /dev/disk4\nsudo dd if=homenode.iso of=/dev/rdisk4 bs=4m\ndiskutil eject /dev/disk4',
      ),
    ),
    h(
      'details',
      null,
      h('summary', null, 'Linux'),
      h('p', null, 'Find the stick (for example /dev/sdb, not a partition like /dev/sdb1) with lsblk, then:'),
      command(
        'sha256sum -c homenode.iso.sha256\nsudo dd if=homenode.iso of=/dev/sdX bs=4M status=progress conv=fsync',
      ),
      notice(
        'error',
        'Check the device name twice: dd overwrites the disk you name without asking, even your computer’s own disk.',
      ),
    ),
  );
}

function imageCard(iso: NonNullable<Downloads['iso']>): HTMLElement[] {
  return [
    h(
      'p',
      null,
      h('a', { href: iso.url, download: 'homenode.iso', class: 'button' }, 'Download homenode.iso'),
      ` version ${iso.version}, ${bytes(iso.size)}, published ${dateOnly(iso.uploadedAt)}.`,
    ),
    h(
      'p',
      null,
      'SHA-256: ',
      h('code', { class: 'details', id: 'iso-sha256' }, iso.sha256),
      ' (',
      h('a', { href: iso.checksumUrl, download: 'homenode.iso.sha256' }, 'checksum file'),
      '). The checksum your computer shows must be exactly this.',
    ),
    howToWrite(),
  ];
}

export function usbImageCard(): HTMLElement {
  const body = h('div', null, h('p', null, 'Looking for the newest USB image…'));
  void api<Downloads>('GET', '/v1/downloads')
    .then((downloads) =>
      downloads.iso
        ? replace(body, ...imageCard(downloads.iso))
        : replace(
            body,
            notice(
              'info',
              'No USB image has been published here yet. Ask the Home Node team that gave you access for ' +
                'the image (or for the link to it); this page links to it once they publish it.',
            ),
          ),
    )
    .catch((error: unknown) =>
      replace(body, notice('error', `The USB image could not be looked up: ${errorText(error)}`)),
    );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'h-usb' },
    h('h2', { id: 'h-usb' }, 'Get the USB image'),
    body,
  );
}
