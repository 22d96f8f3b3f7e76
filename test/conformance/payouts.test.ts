/**
 * Rate cards, periods, adjustments, outages, server runs and what statements read, on both
 * engines; money stays exact (bigint micro-USD in, the same decimal string out).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { HOUR, MINUTE, T0, hardware, ids, seedNode } from './fixtures.js';

const RATES = {
  'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '120000', workloadUusdPerGpuHour: '380000' },
};

describe.each(ENGINES)('payout repository on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e.repos;
  }

  it('rate cards: versions count up from 1, rates come back as written', async () => {
    const repos = await setup();
    const card = { effectiveFrom: T0, rates: RATES, note: 'launch', createdAt: T0, createdBy: 'tok' };
    expect(await repos.payouts.addRateCard(card)).toBe(1);
    expect(await repos.payouts.addRateCard({ ...card, note: null, effectiveFrom: T0 + HOUR })).toBe(2);
    expect(await repos.payouts.rateCards()).toEqual([
      { version: 1, ...card },
      { version: 2, ...card, note: null, effectiveFrom: T0 + HOUR },
    ]);
  });

  it('periods: overlaps found, computed until locked, locked once (compare-and-set)', async () => {
    const repos = await setup();
    await repos.payouts.addRateCard({
      effectiveFrom: T0,
      rates: RATES,
      note: null,
      createdAt: T0,
      createdBy: null,
    });
    await repos.payouts.createPeriod('per_1', T0, T0 + 24 * HOUR, T0);
    await repos.payouts.createPeriod('per_2', T0 + 24 * HOUR, T0 + 48 * HOUR, T0 + 1);
    expect(ids(await repos.payouts.overlapping(T0 + 23 * HOUR, T0 + 25 * HOUR)).sort()).toEqual([
      'per_1',
      'per_2',
    ]);
    expect(ids(await repos.payouts.overlapping(T0 + 48 * HOUR, T0 + 50 * HOUR))).toEqual([]);
    expect(ids(await repos.payouts.periods())).toEqual(['per_2', 'per_1']);
    expect(await repos.payouts.saveComputed('per_1', '{"a":1}', 'h1', 1, T0 + 30 * HOUR)).toBe(true);
    expect(await repos.payouts.period('per_1')).toEqual({
      id: 'per_1',
      start: T0,
      end: T0 + 24 * HOUR,
      status: 'computed',
      rateCardVersion: 1,
      statement: '{"a":1}',
      hash: 'h1',
      createdAt: T0,
      computedAt: T0 + 30 * HOUR,
      lockedAt: null,
      lockedBy: null,
    });
    const locks = await Promise.all([
      repos.payouts.lock('per_1', '{"a":2}', 'h2', 1, T0 + 31 * HOUR, 'tok_a'),
      repos.payouts.lock('per_1', '{"a":3}', 'h3', 1, T0 + 31 * HOUR, 'tok_b'),
    ]);
    expect(locks.filter(Boolean)).toHaveLength(1);
    const locked = await repos.payouts.period('per_1');
    expect(locked).toMatchObject({ status: 'locked', lockedAt: T0 + 31 * HOUR });
    expect(await repos.payouts.saveComputed('per_1', '{}', 'h4', 1, T0 + 32 * HOUR)).toBe(false);
    expect((await repos.payouts.period('per_1'))?.hash).toBe(locked?.hash);
    expect(await repos.payouts.period('per_9')).toBeUndefined();
  });

  it('adjustments: exact to the micro-dollar (beyond 2^53), into the next unlocked period or the next one created', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    await repos.payouts.addRateCard({
      effectiveFrom: T0,
      rates: RATES,
      note: null,
      createdAt: T0,
      createdBy: null,
    });
    const big = '123456789012345678';
    const a = { nodeId: 'node_1', ownerId: 'own_1', reason: 'credit', actor: 'tok' };
    expect(
      await repos.payouts.addAdjustment({ ...a, id: 'adj_1', amountUusd: big, createdAt: T0 }),
    ).toMatchObject({
      periodId: null,
    });
    await repos.payouts.createPeriod('per_1', T0, T0 + HOUR, T0 + 1);
    expect((await repos.payouts.adjustmentsFor('per_1')).map((x) => x.amountUusd)).toEqual([big]);
    await repos.payouts.lock('per_1', '{}', 'h', 1, T0 + 2 * HOUR, 'tok');
    expect(
      await repos.payouts.addAdjustment({
        ...a,
        id: 'adj_2',
        amountUusd: '-9007199254740993',
        createdAt: T0 + 2 * HOUR,
      }),
    ).toMatchObject({ periodId: null });
    await repos.payouts.createPeriod('per_2', T0 + HOUR, T0 + 3 * HOUR, T0 + 2 * HOUR);
    await repos.payouts.addAdjustment({ ...a, id: 'adj_3', amountUusd: '-1', createdAt: T0 + 2 * HOUR + 1 });
    expect(await repos.payouts.adjustmentsFor('per_2')).toEqual([
      { ...a, id: 'adj_2', amountUusd: '-9007199254740993', createdAt: T0 + 2 * HOUR, periodId: 'per_2' },
      { ...a, id: 'adj_3', amountUusd: '-1', createdAt: T0 + 2 * HOUR + 1, periodId: 'per_2' },
    ]);
  });

  it('outages: declared ones overlapping a range and known at a time; detected ones from gaps between runs', async () => {
    const repos = await setup();
    await repos.payouts.addOutage({
      id: 'out_1',
      start: T0,
      end: T0 + HOUR,
      reason: 'maintenance',
      createdBy: 'tok',
      createdAt: T0,
    });
    await repos.payouts.addOutage({
      id: 'out_2',
      start: T0 + 5 * HOUR,
      end: T0 + 6 * HOUR,
      reason: 'late',
      createdBy: null,
      createdAt: T0 + 9 * HOUR,
    });
    expect(ids(await repos.payouts.outages(T0, T0 + 10 * HOUR, T0 + 8 * HOUR))).toEqual(['out_1']);
    expect(ids(await repos.payouts.outages(T0, T0 + 10 * HOUR, T0 + 9 * HOUR))).toEqual(['out_1', 'out_2']);
    expect(ids(await repos.payouts.outages(T0 + HOUR, T0 + 2 * HOUR, T0 + 9 * HOUR))).toEqual([]);
    const r1 = await repos.payouts.startRun(T0);
    await repos.payouts.alive(r1, T0 + HOUR);
    const r2 = await repos.payouts.startRun(T0 + HOUR + 30_000);
    await repos.payouts.alive(r2, T0 + 2 * HOUR);
    const r3 = await repos.payouts.startRun(T0 + 3 * HOUR);
    expect(r2).toBeGreaterThan(r1);
    expect(r3).toBeGreaterThan(r2);
    expect(await repos.payouts.detectedOutages(T0, T0 + 10 * HOUR, 2 * MINUTE)).toEqual([
      { start: T0 + 2 * HOUR, end: T0 + 3 * HOUR },
    ]);
    expect(await repos.payouts.detectedOutages(T0, T0 + 10 * HOUR, 20_000)).toHaveLength(2);
  });

  it('detected outages: a replica restarting while another runs is no outage; all of them down is', async () => {
    const repos = await setup();
    const a = await repos.payouts.startRun(T0);
    await repos.payouts.alive(a, T0 + 10 * HOUR);
    const b1 = await repos.payouts.startRun(T0 + MINUTE);
    await repos.payouts.alive(b1, T0 + 2 * HOUR);
    const b2 = await repos.payouts.startRun(T0 + 3 * HOUR);
    await repos.payouts.alive(b2, T0 + 12 * HOUR);
    expect(await repos.payouts.detectedOutages(T0, T0 + 24 * HOUR, 2 * MINUTE)).toEqual([]);
    // Every replica down from 12 h to 13 h.
    await repos.payouts.startRun(T0 + 13 * HOUR);
    expect(await repos.payouts.detectedOutages(T0, T0 + 24 * HOUR, 2 * MINUTE)).toEqual([
      { start: T0 + 12 * HOUR, end: T0 + 13 * HOUR },
    ]);
  });

  it('statement inputs: nodes of a period in owner then id order (bytewise), their presence, usage sums and crossings', async () => {
    const repos = await setup();
    // Bytewise order: upper case before "_" before lower case.
    for (const [n, ownerId] of [
      ['1', 'own_b'],
      ['2', 'own_B'],
      ['3', 'own__'],
      ['4', 'own_b'],
      ['5', 'own_c'],
    ] as const)
      await seedNode(repos, n, { ownerId, fields: { hardware: hardware(2) } });
    for (const n of ['1', '2', '3', '4'])
      await repos.nodes.transition(`node_${n}`, 'pending', 'approved', null, 'tok', T0 + 1);
    await repos.payouts.createPeriod('per_1', T0, T0 + 24 * HOUR, T0);
    expect(await repos.payouts.nodesForPeriod('per_1', T0, T0 + 24 * HOUR)).toEqual([
      { id: 'node_2', ownerId: 'own_B' },
      { id: 'node_3', ownerId: 'own__' },
      { id: 'node_1', ownerId: 'own_b' },
      { id: 'node_4', ownerId: 'own_b' },
    ]);
    await repos.presence.write([
      {
        id: 'pi_1',
        nodeId: 'node_1',
        startedAt: T0,
        lastSeenAt: T0 + HOUR,
        endedAt: T0 + HOUR,
        endReason: 'bye',
        bootId: null,
      },
      {
        id: 'pi_2',
        nodeId: 'node_1',
        startedAt: T0 + 2 * HOUR,
        lastSeenAt: T0 + 3 * HOUR,
        endedAt: null,
        endReason: null,
        bootId: null,
      },
    ]);
    expect(await repos.payouts.presence('node_1', T0 + 90 * MINUTE)).toEqual([
      { startedAt: T0 + 2 * HOUR, lastSeenAt: T0 + 3 * HOUR, endedAt: null },
    ]);
    const report = (
      seq: number,
      from: number,
      minutes: number,
      gpus: number,
      seconds: number,
      receivedAt = from + minutes * MINUTE,
    ) =>
      repos.usage.store(
        {
          nodeId: 'node_1',
          seq,
          fromAt: from,
          toAt: from + minutes * MINUTE,
          workloads: [{ leaseId: 'l', gpus, seconds }],
          receivedAt,
        },
        `jws-${seq}`,
      );
    await report(1, T0, 5, 2, 300);
    await report(2, T0 + 5 * MINUTE, 5, 4, 300); // claims more GPUs than the window allows: capped
    await report(3, T0 + 55 * MINUTE, 10, 1, 600); // crosses T0+1h
    await report(4, T0 + 10 * MINUTE, 5, 1, 300, T0 + 10 * HOUR); // arrived after asOf
    const answers = await repos.payouts.usage('node_1', T0 + 5 * HOUR, {
      sums: [
        { from: T0, to: T0 + HOUR, gpus: 2 },
        { from: T0, to: T0 + HOUR, gpus: 1 },
        { from: T0 + 2 * HOUR, to: T0 + 3 * HOUR, gpus: 2 },
      ],
      cuts: [T0 + HOUR, T0 + 2 * HOUR],
      start: T0,
      end: T0 + 3 * HOUR,
    });
    // Each report counts at most its window × the GPUs asked about.
    expect(answers.sums).toEqual([600 + 600, 300 + 300, 0]);
    expect(answers.crossings).toEqual([
      [
        {
          seq: 3,
          from: T0 + 55 * MINUTE,
          to: T0 + 65 * MINUTE,
          workloads: [{ leaseId: 'l', gpus: 1, seconds: 600 }],
        },
      ],
      [],
    ]);
    // The repository refuses overlaps, so none are stored to be answered.
    expect(answers.overlapped).toEqual([]);
    expect(
      await repos.payouts.usage('node_1', T0, { sums: [], cuts: [], start: T0, end: T0 + HOUR }),
    ).toEqual({
      sums: [],
      crossings: [],
      overlapped: [],
    });
  });

  it('many-node reads answer exactly as the one-node reads, for every id asked (unknown ones empty)', async () => {
    const repos = await setup();
    const nodes = ['1', '2', '3'];
    for (const n of nodes) await seedNode(repos, n, { ownerId: 'own_a', fields: { hardware: hardware(2) } });
    await repos.presence.write(
      nodes.flatMap((n, i) => [
        {
          id: `pi_${n}a`,
          nodeId: `node_${n}`,
          startedAt: T0 + i * MINUTE,
          lastSeenAt: T0 + HOUR,
          endedAt: T0 + HOUR,
          endReason: 'bye',
          bootId: null,
        },
        {
          id: `pi_${n}b`,
          nodeId: `node_${n}`,
          startedAt: T0 + 2 * HOUR,
          lastSeenAt: T0 + (3 + i) * HOUR,
          endedAt: null,
          endReason: null,
          bootId: null,
        },
      ]),
    );
    for (const [i, n] of nodes.entries()) {
      for (let w = 0; w < 14; w++)
        await repos.usage.store(
          {
            nodeId: `node_${n}`,
            seq: w + 1,
            fromAt: T0 + (w * 5 + i) * MINUTE,
            toAt: T0 + (w * 5 + i + 5) * MINUTE,
            workloads: [{ leaseId: 'l', gpus: 1 + (w % 2), seconds: 300 - i }],
            receivedAt: T0 + (w * 5 + 5) * MINUTE + (w === 3 ? 10 * HOUR : 0),
          },
          `jws-${n}-${w}`,
        );
      await repos.audits.startInterval({
        nodeId: `node_${n}`,
        state: 'passing',
        startedAt: T0 + i * HOUR,
        verifiedUntil: T0 + (i + 2) * HOUR,
        auditId: null,
      });
    }
    const ids = ['node_1', 'node_2', 'node_3', 'node_none'];
    const queries = (i: number) => ({
      sums: [
        { from: T0, to: T0 + HOUR, gpus: 2 },
        { from: T0 + i * MINUTE, to: T0 + 30 * MINUTE, gpus: 1 },
      ],
      cuts: [T0 + 30 * MINUTE, T0 + (31 + i) * MINUTE],
      start: T0,
      end: T0 + 4 * HOUR,
    });
    const asOf = T0 + 5 * HOUR;
    const [presence, history, audits, usage] = await Promise.all([
      repos.payouts.presenceOf(ids, T0 + 30 * MINUTE),
      repos.payouts.hardwareHistoryOf(ids),
      repos.payouts.auditHistoryOf(ids, T0 + 30 * MINUTE, asOf),
      repos.payouts.usageOf(
        ids.map((nodeId, i) => ({ nodeId, queries: queries(i) })),
        asOf,
      ),
    ]);
    expect([...presence.keys()]).toEqual(ids);
    for (const [i, id] of ids.entries()) {
      expect(presence.get(id)).toEqual(await repos.payouts.presence(id, T0 + 30 * MINUTE));
      expect(history.get(id)).toEqual(await repos.payouts.hardwareHistory(id));
      expect(audits.get(id)).toEqual(await repos.payouts.auditHistory(id, T0 + 30 * MINUTE, asOf));
      expect(usage[i]).toEqual(await repos.payouts.usage(id, asOf, queries(i)));
    }
    // Something was read (the comparison is not of empty answers), and nothing for the unknown id.
    expect(presence.get('node_2')).toHaveLength(2);
    expect(history.get('node_3')).toHaveLength(1);
    expect(audits.get('node_2')?.firstStartedAt).toBe(T0 + HOUR);
    expect(usage[0]?.sums[0]).toBeGreaterThan(0);
    expect(usage[1]?.crossings[1]).toHaveLength(1);
    expect(usage[3]).toEqual({ sums: [0, 0], crossings: [[], []], overlapped: [] });
    expect(presence.get('node_none')).toEqual([]);
    expect(audits.get('node_none')).toEqual({ intervals: [], firstStartedAt: null });
  });
});
