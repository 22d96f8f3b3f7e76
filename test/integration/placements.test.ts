/**
 * `POST /v1/placements/match` on the real server: Akash's seed SDLs (`test/fixtures/akash/`) and
 * GPU SDLs against a fleet whose nodes were attested by real (simulated) audits, as Akash would
 * match them: an RTX 4090 signed by our auditor is eligible, an H100 is not, `allOf` our auditor
 * and Akash's is not; a malformed SDL is a 400 that names the line; roles and the size cap.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rtx4090Hardware } from '../helpers/enrollment.js';
import { auditSetup } from './audit-sim-support.js';

const AKASH_AUDITOR = 'akash1365yvmc4s7awdyj3n2sav7xfx76adc6dnmlx63';
const OURS = `akash1hnaud${'q'.repeat(33)}`;
const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'akash', name), 'utf8');

type Match = { placements: { name: string; eligible: boolean; nodes: string[]; reasons: string[] }[] };
type ErrorBody = { error: { code: string; message: string; details: { line: number; path: string }[] } };

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup() {
  const s = await auditSetup({ auditor: { address: OURS } });
  cleanup.push(() => s.server.close());
  const match = (sdl: string, token?: string, type = 'application/yaml') =>
    s.server.api<Match & ErrorBody>('POST', '/v1/placements/match', {
      raw: sdl,
      headers: { 'content-type': type },
      ...(token ? { token } : {}),
    });
  return { ...s, match };
}

/** The GPU example, signed by `signedBy` instead of Akash's auditor, asking for `model`. */
function gpuSdl(signedBy: string, model = 'rtx4090'): string {
  return fixture('gpu-signed-anyof.yaml')
    .replace(/signedBy:\n\s+anyOf:\n\s+- akash1\S+/, signedBy)
    .replace('model: rtx4090', `model: ${model}`);
}

describe('placement of Akash SDLs on the attested fleet', () => {
  it('matches as Akash would: our auditor and an RTX 4090 yes; an H100 no; allOf with Akash no', async () => {
    const s = await setup();
    const n = await s.node({ join: true });
    const unaudited = await s.node({
      join: true,
      hardware: rtx4090Hardware({
        gpus: [
          {
            vendor: 'nvidia',
            model: 'rtx3090',
            pciId: '10de:2204',
            memoryBytes: 24_576 * 1024 * 1024,
            uuid: 'GPU-3e8b1d2c-4a5f-4b6e-9d7c-8a1b2c3d4e5f',
            driver: '550.54.15',
            name: 'NVIDIA GeForce RTX 3090',
          },
        ],
      }),
    });
    await s.tick();
    const request = await n.answer('pass');
    await s.settled(n.nodeId, request.auditId);
    // The second node's first audit is still running: it is not attested.
    expect((await s.state(unaudited.nodeId)).state).toBe('never');

    const ours = await s.match(gpuSdl(`signedBy:\n        anyOf:\n          - ${OURS}`));
    expect(ours.status).toBe(200);
    expect(ours.body.placements).toEqual([
      { name: 'dcloud', eligible: true, nodes: [n.nodeId], reasons: [] },
    ]);

    // An RTX 3090 is offered only by a node that is not attested yet: the reason says so.
    const rtx3090 = await s.match(gpuSdl(`signedBy:\n        anyOf:\n          - ${OURS}`, 'rtx3090'));
    expect(rtx3090.body.placements[0]!.reasons[0]).toContain('without a current attestation');

    const h100 = await s.match(gpuSdl(`signedBy:\n        anyOf:\n          - ${OURS}`, 'h100'));
    expect(h100.body.placements[0]).toMatchObject({ eligible: false, nodes: [] });
    expect(h100.body.placements[0]!.reasons[0]).toContain(
      'no attested node offers capabilities/gpu/vendor/nvidia/model/h100',
    );

    const allOf = await s.match(
      gpuSdl(`signedBy:\n        allOf:\n          - ${OURS}\n          - ${AKASH_AUDITOR}`),
    );
    expect(allOf.body.placements[0]).toMatchObject({ eligible: false });
    expect(allOf.body.placements[0]!.reasons[0]).toContain(
      `signedBy.allOf requires signatures by ${AKASH_AUDITOR}`,
    );

    // The seed examples as they are: signed by Akash's auditor only (anyOf), and the region example (allOf).
    const anyOfAkash = await s.match(fixture('gpu-signed-anyof.yaml'));
    expect(anyOfAkash.body.placements[0]).toMatchObject({ name: 'dcloud', eligible: false });
    expect(anyOfAkash.body.placements[0]!.reasons[0]).toContain('signedBy.anyOf');
    const region = await s.match(fixture('region-signed-allof.yaml'));
    expect(region.body.placements[0]).toMatchObject({ name: 'westcoast', eligible: false, nodes: [] });
    expect(region.body.placements[0]!.reasons[0]).toContain('region=us-west');

    // An SDL without signedBy and without a GPU: any attested node serves it.
    const plain = await s.match(
      fixture('region-signed-allof.yaml')
        .replace(/ {6}signedBy:\n {8}allOf:\n( {10}- \S+\n){2}/, '')
        .replace('region: us-west\n', ''),
    );
    expect(plain.body.placements[0]).toMatchObject({ eligible: true, nodes: [n.nodeId] });
  });

  it('a malformed SDL is a 400 that names the line; roles, media type and the size cap are enforced', async () => {
    const s = await setup();
    const broken = fixture('gpu-signed-anyof.yaml').replace(
      '- model: rtx4090',
      '- model: rtx4090\n                  interface: pciex',
    );
    const answer = await s.match(broken);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    expect(answer.body.error.message).toMatch(
      /^The SDL has a problem at line 29, column \d+: .*interface is "pciex"/,
    );
    expect(answer.body.error.details[0]).toMatchObject({ line: 29 });

    const yamlError = await s.match('version: "2.0"\nservices: [unclosed\n');
    expect(yamlError.status).toBe(400);
    expect(yamlError.body.error.message).toMatch(/line \d+/);

    const reviewer = await s.server.tokenFor('reviewer');
    expect((await s.match(fixture('gpu-signed-anyof.yaml'), reviewer)).status).toBe(200);
    const owner = await s.server.tokenFor('owner', (await s.server.createOwner()).id);
    expect((await s.match(fixture('gpu-signed-anyof.yaml'), owner)).status).toBe(403);
    expect((await s.match(fixture('gpu-signed-anyof.yaml'), undefined, 'text/plain')).status).toBe(415);
    const huge = await s.match(`# ${'x'.repeat(300 * 1024)}\n${fixture('gpu-signed-anyof.yaml')}`);
    expect(huge.status).toBe(413);
  });
});
