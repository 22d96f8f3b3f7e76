/** The first-boot screens as lines of text: welcome, enrolled (pending/approved), refused, gave up. */
import type { Check } from '../../protocol/hardware.js';
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

/**
 * Shown on every first-boot screen (and by `preflight` and `status`) while the server is reached
 * over plain http to another machine, which only an explicit switch allows.
 */
export function insecureHttpWarning(serverUrl: string, width: number, style: Style): string[] {
  return wrapText(
    `WARNING: insecure connection. ${serverUrl} is reached over plain http, as --allow-insecure-http ` +
      '(or "allowInsecureHttp" in the config file) allows: the installation key and everything the ' +
      'server sends this machine can be read and changed on the way. Use it only on a test network ' +
      'you trust; for real machines use the https:// address.',
    width,
  ).map((line) => style.red(style.bold(line)));
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

/**
 * Under the checks table when a check failed and enrollment stops: which checks, that nothing was
 * sent, how to see the table again, and (for developers on machines without a GPU) `--facts`.
 */
export function preflightStoppedScreen(
  checks: readonly Check[],
  agentCommand: string,
  width: number,
  style: Style,
): string[] {
  const failed = checks.filter((c) => c.status === 'fail').map((c) => c.id);
  const what = `${failed.length} check${failed.length === 1 ? '' : 's'} failed (${failed.join(', ')})`;
  return [
    '',
    style.red(style.bold(`Enrollment stopped: ${what}.`)),
    ...wrapText('Nothing was sent to the server and no key was used.', width),
    '',
    ...wrapText(`To see the checks again: ${agentCommand} preflight (--json for every detail).`, width).map(
      (l) => style.cyan(l),
    ),
    ...wrapText(
      'Developers and tests: on a machine without this hardware, assess a recorded one with ' +
        '--facts FILE (run, enroll and preflight take it) and the stand-in programs first on PATH, ' +
        'as docs/agent.md shows.',
      width,
    ).map((l) => style.dim(l)),
  ];
}
