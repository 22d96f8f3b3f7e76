/** The first-boot screens as lines of text: welcome, enrolled (pending/approved), refused, gave up. */
import type { NodeRecord } from '../state/state-store.js';
import { explainRefusal, rejectedChecks } from './refusal.js';
import { wrapIndented, wrapText, type Style } from './output.js';

export function welcomeScreen(width: number, style: Style): string[] {
  return [
    style.bold('Welcome to Home Node'),
    '',
    ...wrapText(
      'This machine will be checked, then connected to your Home Node account with the installation ' +
        'key you generated on the website. Nothing is written to the internal disks yet.',
      width,
    ),
    '',
  ];
}

const NEXT_STEPS: Record<string, string> = {
  pending:
    'The operations team will review this machine, usually within a day. You will see it on the ' +
    'website as "pending" until then. Leave the machine switched on and connected; nothing else is needed.',
  approved: 'This machine is approved. It will now prepare itself and join the cluster.',
  active: 'This machine is active in the cluster.',
};

export function enrolledScreen(node: NodeRecord, width: number, style: Style): string[] {
  const headline = node.status === 'pending' ? 'Enrolled: waiting for approval' : `Enrolled: ${node.status}`;
  return [
    '',
    style.green(style.bold(headline)),
    '',
    `Node id:  ${style.bold(node.nodeId)}`,
    `Status:   ${node.status}`,
    `Server:   ${node.serverUrl}`,
    '',
    ...wrapText(NEXT_STEPS[node.status] ?? `The server reports this machine as ${node.status}.`, width),
  ];
}

export function refusedScreen(
  refusal: { code: string; message: string; details?: unknown },
  width: number,
  style: Style,
): string[] {
  const explanation = explainRefusal(refusal.code, refusal.message);
  const checks = refusal.code === 'HARDWARE_REJECTED' ? rejectedChecks(refusal.details) : [];
  return [
    '',
    style.red(style.bold(explanation.title)),
    '',
    ...wrapText(explanation.what, width),
    ...checks.flatMap((c) => wrapIndented('  - ', c, width)),
    '',
    ...wrapIndented('What to do: ', explanation.next, width).map((l) => style.cyan(l)),
    style.dim(`(server code ${refusal.code})`),
  ];
}

export function gaveUpScreen(attempts: number, reason: string, width: number, style: Style): string[] {
  return [
    '',
    style.red(style.bold('Could not reach the Home Node server')),
    '',
    ...wrapText(`Tried ${attempts} times; the last problem was: ${reason}.`, width),
    '',
    ...wrapIndented(
      'What to do: ',
      'Check the network cable and that your router is online, then restart this machine. Your key has not been used up: the enrollment continues where it stopped.',
      width,
    ).map((l) => style.cyan(l)),
  ];
}
