/** Notices for the operations team: the pending queue waits, many machines drop at once. Pure. */
import type { OpsEvent } from '../core/domain-events.js';
import { utcTime } from './mail-format.js';
import type { MailBody, MailContext } from './mail-params.js';

export function opsMail(event: OpsEvent, ctx: MailContext, pendingMinutes: number): MailBody {
  if (event.type === 'ops.pending-waiting') {
    const n = event.nodes.length;
    return {
      subject: `${n} ${n === 1 ? 'machine has' : 'machines have'} waited more than ${pendingMinutes} minutes for approval`,
      blocks: [
        {
          p: `${n === 1 ? 'This machine waits' : 'These machines wait'} for approval; ${n === 1 ? 'its owner' : 'their owners'} cannot earn until you decide:`,
        },
        {
          list: event.nodes.map((m) => `${m.nodeId} (owner ${m.ownerId}), pending since ${utcTime(m.since)}`),
        },
        { button: { label: 'Review the pending machines', url: `${ctx.publicUrl}/pending` } },
      ],
    };
  }
  const shown = event.nodeIds.slice(0, 20);
  return {
    subject: `${event.count} machines went offline within ${event.windowMinutes} minutes`,
    blocks: [
      {
        p: `${event.count} approved machines lost their connection within ${event.windowMinutes} minutes. So many at once usually means a problem on our side (the network, a load balancer, the cluster) rather than at the owners' homes.`,
      },
      {
        list: [
          ...shown,
          ...(event.nodeIds.length > shown.length ? [`and ${event.nodeIds.length - shown.length} more`] : []),
        ],
      },
      { button: { label: 'Open the fleet', url: `${ctx.publicUrl}/fleet` } },
    ],
  };
}
