/**
 * The public performance board (`/performance`, no sign-in): per GPU class, how many machines
 * our audits currently vouch for, the spread of each benchmark figure (p10, median, p90) and
 * what a dollar of a GPU-hour buys. It shows no machine or owner. Also the owner's "where my
 * machine stands" block for the machine page.
 */
import { api, errorText } from '../api.js';
import { type Child, h, notice, replace, table } from '../dom.js';
import { formatUsd } from '../money.js';
import type { BoardClass, Standing as ClassStanding } from '../../attestations/performance.js';

// The answers' shapes, from the server's own types (type-only: nothing of the server is bundled).
interface Board {
  generatedAt: string;
  minNodesForFigures: number;
  rateCardVersion: number | null;
  classes: BoardClass[];
}

interface Standing {
  attested: boolean;
  classes: ClassStanding[];
}

const number = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** `nvidia/rtx4090/24Gi` → `NVIDIA RTX4090, 24 GiB`. */
export function className(gpuClass: string): string {
  const [vendor = '', model = '', memory = ''] = gpuClass.split('/');
  return `${vendor.toUpperCase()} ${model.toUpperCase()}${memory ? `, ${memory.replace('Gi', ' GiB')}` : ''}`;
}

function classCard(c: Board['classes'][number], minNodes: number): HTMLElement {
  const price = c.availabilityUusdPerGpuHour;
  const heading = `${className(c.gpuClass)}`;
  const facts: Child[] = [
    `${c.nodes} ${c.nodes === 1 ? 'machine' : 'machines'} (${c.gpus} ${c.gpus === 1 ? 'GPU' : 'GPUs'}) whose last audit passed`,
    price ? ` · availability ${formatUsd(price, 3)} per GPU-hour` : ' · no rate for this class yet',
  ];
  const body =
    c.figures.length === 0
      ? notice(
          'info',
          `Figures appear once at least ${minNodes} machines of this class are audited, so that no single machine can be picked out.`,
        )
      : table(
          `Benchmarks of ${heading}`,
          ['Figure', 'p10', 'Median', 'p90', price ? 'Median per $ of a GPU-hour' : ''],
          c.figures.map((f) => [
            h(
              'span',
              { title: `${f.name}: ${f.samples} machines` },
              `${f.description} (${f.unit})`,
              f.higherIsBetter ? '' : ', lower is better',
            ),
            number(f.p10),
            h('strong', null, number(f.median)),
            number(f.p90),
            f.medianPerUsd === null ? '—' : number(f.medianPerUsd),
          ]),
        );
  return h(
    'section',
    { class: 'card', 'aria-label': heading },
    h('h2', null, heading),
    h('p', null, facts),
    body,
  );
}

export async function performancePage(root: HTMLElement): Promise<void> {
  replace(root, h('h1', null, 'Performance of the fleet'), notice('info', 'Loading…'));
  try {
    const board = await api<Board>('GET', '/v1/performance');
    replace(
      root,
      h('h1', null, 'Performance of the fleet'),
      h(
        'p',
        { class: 'lead' },
        'Every machine is audited by the server on a schedule: GPU health, CPU, memory, disk, network. These are the figures of the machines whose last audit passed, by GPU class, with the price of a GPU-hour from the current rate card.',
      ),
      board.classes.length === 0
        ? notice('info', 'No machine has passed an audit yet. Figures appear here after the first audits.')
        : board.classes.map((c) => classCard(c, board.minNodesForFigures)),
      h(
        'p',
        { class: 'muted' },
        `Updated ${new Date(board.generatedAt).toUTCString()}. p10 and p90: 10 % of machines measure less, 10 % more. `,
        board.rateCardVersion === null
          ? 'No rate card is in force.'
          : `Rate card version ${board.rateCardVersion}.`,
      ),
    );
  } catch (error) {
    replace(root, h('h1', null, 'Performance of the fleet'), notice('error', errorText(error)));
  }
}

/** The owner's machine in its class, for the machine page; nothing when it is not attested. */
export async function standingSection(nodeId: string): Promise<HTMLElement | null> {
  let standing: Standing;
  try {
    standing = await api<Standing>('GET', `/v1/nodes/${encodeURIComponent(nodeId)}/performance`);
  } catch {
    return null;
  }
  if (!standing.attested) return null;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'h-standing' },
    h('h2', { id: 'h-standing' }, 'Compared with machines like it'),
    standing.classes.map((c) =>
      c.figures.length === 0
        ? notice(
            'info',
            `${className(c.gpuClass)}: ${c.nodes} audited; a comparison appears once there are at least 3.`,
          )
        : table(
            `Standing in ${className(c.gpuClass)}`,
            ['Figure', 'This machine', `Better than or equal to (of ${c.nodes})`],
            c.figures.map((f) => [
              h(
                'span',
                { title: f.name },
                `${f.description} (${f.unit})`,
                f.higherIsBetter ? '' : ', lower is better',
              ),
              number(f.value),
              `${f.percentile} %`,
            ]),
          ),
    ),
    h('p', null, h('a', { href: '/performance' }, 'See the whole board')),
  );
}
