/**
 * The `join` message's fields by pattern: the protocol schema refuses a hostile join (a newline and
 * a `PostUp` line in each field in turn), and so do the renderers when the schema is bypassed, so
 * nothing with a newline ever reaches the wg-quick or k3s config.
 */
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { joinDigest, renderK3sConfig, renderWireguardConfig } from '../../agent/join/join-config.js';
import { type JoinMessage, JoinSchema, ServerMessageSchema } from '../../protocol/control.js';
import { JoinFieldError, isJoinField, joinFieldProblem } from '../../protocol/join-fields.js';

const checkJoin = Compile(JoinSchema);
const checkServerMessage = Compile(ServerMessageSchema);

/** Real keys from `wg genkey` / `wg pubkey` (wireguard-tools 1.0.20210914). */
const PRIVATE_KEY = 'UEUo2wVTyFBwu1bnohmW3aT/7bm1slgCyyD7mEUaw3w=';
const HUB_KEY = 'A5PdAVG5X3iapC5I1ezbrc0nZD1SxpVMI8NrK5VkM1o=';
const INJECTION = '\nPostUp = touch /tmp/homenode-pwned';

function validJoin(): JoinMessage {
  return {
    type: 'join',
    cluster: { server: 'https://100.64.0.1:6443', token: 'K10abc::server:s3cr3t', nodeName: 'node-abc' },
    network: {
      address: '100.64.0.7/32',
      hubPublicKey: HUB_KEY,
      hubEndpoint: 'hub.example.com:51820',
      allowedIps: ['100.64.0.0/10'],
      persistentKeepalive: 25,
    },
    labels: {
      'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090': '1',
      'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090.ram.24Gi': '1',
      'nvidia.com/gpu.present': 'true',
    },
  };
}

/** Every string the agent writes, each with a way to put a hostile value there. */
const FIELDS: {
  name: string;
  set: (j: JoinMessage, value: string) => void;
  get: (j: JoinMessage) => string;
}[] = [
  { name: 'cluster.server', get: (j) => j.cluster.server, set: (j, v) => void (j.cluster.server = v) },
  { name: 'cluster.token', get: (j) => j.cluster.token, set: (j, v) => void (j.cluster.token = v) },
  { name: 'cluster.nodeName', get: (j) => j.cluster.nodeName, set: (j, v) => void (j.cluster.nodeName = v) },
  { name: 'network.address', get: (j) => j.network.address, set: (j, v) => void (j.network.address = v) },
  {
    name: 'network.hubPublicKey',
    get: (j) => j.network.hubPublicKey,
    set: (j, v) => void (j.network.hubPublicKey = v),
  },
  {
    name: 'network.hubEndpoint',
    get: (j) => j.network.hubEndpoint,
    set: (j, v) => void (j.network.hubEndpoint = v),
  },
  {
    name: 'network.allowedIps[0]',
    get: (j) => j.network.allowedIps[0] ?? '',
    set: (j, v) => void (j.network.allowedIps = [v]),
  },
  {
    name: 'the label nvidia.com/gpu.present',
    get: (j) => j.labels['nvidia.com/gpu.present'] ?? '',
    set: (j, v) => void (j.labels['nvidia.com/gpu.present'] = v),
  },
  {
    name: 'a label key',
    get: () => 'example.com/injected',
    set: (j, v) => void (j.labels[v] = 'true'),
  },
];

describe('join files', () => {
  it('renders the WireGuard config for the overlay', () => {
    expect(renderWireguardConfig(validJoin(), PRIVATE_KEY)).toBe(
      [
        '# Written by the Home Node agent from the server\'s "join" message. Do not edit.',
        '[Interface]',
        `PrivateKey = ${PRIVATE_KEY}`,
        'Address = 100.64.0.7/32',
        '',
        '[Peer]',
        `PublicKey = ${HUB_KEY}`,
        'Endpoint = hub.example.com:51820',
        'AllowedIPs = 100.64.0.0/10',
        'PersistentKeepalive = 25',
        '',
      ].join('\n'),
    );
  });

  it('renders the k3s agent config with quoted values and sorted labels', () => {
    expect(renderK3sConfig(validJoin(), 'hn0')).toBe(
      [
        '# Written by the Home Node agent from the server\'s "join" message. Do not edit.',
        'server: "https://100.64.0.1:6443"',
        'token: "K10abc::server:s3cr3t"',
        'node-name: "node-abc"',
        'node-ip: "100.64.0.7"',
        'flannel-iface: "hn0"',
        'node-label:',
        '  - "akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090=1"',
        '  - "akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090.ram.24Gi=1"',
        '  - "nvidia.com/gpu.present=true"',
        '',
      ].join('\n'),
    );
  });

  it('tells an identical join from a changed one', () => {
    const join = validJoin();
    const reordered = { ...join, labels: Object.fromEntries(Object.entries(join.labels).reverse()) };
    expect(joinDigest(reordered)).toBe(joinDigest(join));
    expect(joinDigest({ ...join, labels: { ...join.labels, x: '2' } })).not.toBe(joinDigest(join));
  });
});

describe('a hostile join (a newline and a PostUp line in each field in turn)', () => {
  it('passes as a whole when every field is well formed', () => {
    expect(checkJoin.Check(validJoin())).toBe(true);
    expect(checkServerMessage.Check(validJoin())).toBe(true);
    expect(joinFieldProblem(validJoin())).toBeUndefined();
  });

  for (const field of FIELDS) {
    it(`is refused by the protocol schema and by both renderers: ${field.name}`, () => {
      const join = validJoin();
      field.set(join, `${field.get(join)}${INJECTION}`);
      expect(checkJoin.Check(join)).toBe(false);
      expect(checkServerMessage.Check(join)).toBe(false);
      // Bypassing the schema, the renderers refuse before a line is produced.
      expect(() => renderWireguardConfig(join, PRIVATE_KEY)).toThrow(JoinFieldError);
      expect(() => renderK3sConfig(join, 'hn0')).toThrow(JoinFieldError);
      expect(() => renderWireguardConfig(join, PRIVATE_KEY)).toThrow(
        new RegExp(`^${field.name.replace(/[.[\]]/g, '\\$&')} must be `),
      );
      // A carriage return alone is refused too.
      field.set(join, `${field.get(validJoin())}\rPostUp = id`);
      expect(checkJoin.Check(join)).toBe(false);
      expect(() => renderK3sConfig(join, 'hn0')).toThrow(JoinFieldError);
    });
  }

  it('refuses a hostile private key or interface name given to the renderers', () => {
    expect(() => renderWireguardConfig(validJoin(), `${PRIVATE_KEY}${INJECTION}`)).toThrow(
      /the WireGuard private key must be a WireGuard key/,
    );
    expect(() => renderK3sConfig(validJoin(), 'hn0\nx')).toThrow(/the WireGuard interface must be/);
  });

  it('says which field is wrong, what it must look like, and what came instead', () => {
    const join = validJoin();
    join.network.hubEndpoint = `hub.example.com:51820${INJECTION}`;
    expect(joinFieldProblem(join)).toBe(
      'network.hubEndpoint must be host:port, with a hostname or an IP address and a port from 1 to 65535; ' +
        'the server sent "hub.example.com:51820\\nPostUp = touch /tmp/homenode-pwned"',
    );
  });
});

describe('join field patterns', () => {
  it('takes WireGuard keys of exactly 44 base64 characters ending in "=" (a 42-character key is refused)', () => {
    const devKey = 'DEVhubPublicKeyDEVhubPublicKeyDEVhubPubKE='; // 42 characters
    expect(devKey).toHaveLength(42);
    expect(isJoinField('wireguardKey', devKey)).toBe(false);
    const join = validJoin();
    join.network.hubPublicKey = devKey;
    expect(checkJoin.Check(join)).toBe(false);
    expect(isJoinField('wireguardKey', HUB_KEY)).toBe(true);
    expect(isJoinField('wireguardKey', HUB_KEY.replace(/=$/, 'A'))).toBe(false);
    // 43rd symbol with low bits set: not 32 bytes, wg refuses it.
    expect(isJoinField('wireguardKey', `${HUB_KEY.slice(0, 42)}B=`)).toBe(false);
    expect(isJoinField('wireguardKey', `${HUB_KEY.slice(0, 42)}o=`)).toBe(true);
  });

  it('takes host:port endpoints with a port from 1 to 65535', () => {
    for (const ok of ['hub.example.com:51820', '203.0.113.9:1', '[2001:db8::1]:65535', 'hub:51820'])
      expect(isJoinField('endpoint', ok), ok).toBe(true);
    for (const bad of [
      'hub.example.com',
      'hub.example.com:0',
      'hub.example.com:65536',
      'hub.example.com:051820',
      'hub example.com:51820',
      '-hub.example.com:51820',
      'hub.example.com:51820 # x',
      '[2001:db8::1%eth0]:51820',
    ])
      expect(isJoinField('endpoint', bad), bad).toBe(false);
  });

  it('takes only https://host:port as the k3s server, and IPv4 CIDRs as addresses', () => {
    expect(isJoinField('k3sServer', 'https://k3s.example.com:6443')).toBe(true);
    for (const bad of ['http://100.64.0.1:6443', 'https://100.64.0.1', 'https://100.64.0.1:6443/x'])
      expect(isJoinField('k3sServer', bad), bad).toBe(false);
    expect(isJoinField('ipv4Cidr', '10.42.0.0/16')).toBe(true);
    for (const bad of ['100.64.0.7', '100.64.0.256/32', '100.64.0.7/33', '100.64.0.7/32/1'])
      expect(isJoinField('ipv4Cidr', bad), bad).toBe(false);
  });

  it("follows Kubernetes' rules for node names, label keys and values", () => {
    expect(isJoinField('nodeName', 'node-7k3q.example')).toBe(true);
    expect(isJoinField('nodeName', 'Node_7')).toBe(false);
    expect(isJoinField('labelKey', 'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090')).toBe(true);
    expect(isJoinField('labelKey', 'plain-name')).toBe(true);
    expect(isJoinField('labelKey', `x/${'a'.repeat(64)}`)).toBe(false);
    expect(
      isJoinField('labelKey', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}/n`),
    ).toBe(false);
    expect(isJoinField('labelKey', 'Upper.Case/name')).toBe(false);
    expect(isJoinField('labelValue', '')).toBe(true);
    expect(isJoinField('labelValue', '24Gi')).toBe(true);
    expect(isJoinField('labelValue', 'a'.repeat(64))).toBe(false);
    expect(isJoinField('labelValue', '-x')).toBe(false);
    expect(isJoinField('k3sToken', 'K10' + 'f'.repeat(64) + '::server:' + 'a'.repeat(32))).toBe(true);
    expect(isJoinField('k3sToken', 'two words')).toBe(false);
    expect(isJoinField('k3sToken', 'quote"d')).toBe(false);
  });

  it('refuses keepalives, lists and label sets that are out of range', () => {
    const join = validJoin();
    join.network.persistentKeepalive = 70_000;
    expect(checkJoin.Check(join)).toBe(false);
    expect(joinFieldProblem(join)).toMatch(
      /persistentKeepalive must be a whole number of seconds from 0 to 65535/,
    );
    const empty = validJoin();
    empty.network.allowedIps = [];
    expect(checkJoin.Check(empty)).toBe(false);
    expect(joinFieldProblem(empty)).toMatch(/^network\.allowedIps must be/);
    const many = validJoin();
    many.labels = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'x']));
    expect(checkJoin.Check(many)).toBe(false);
    expect(joinFieldProblem(many)).toMatch(/at most 64 labels/);
  });
});
