/**
 * The systemd unit that runs the k3s agent (pure): the installed binary with the config file the
 * join wrote (`k3s agent --config …`; the labels, node IP and flannel interface are in it), started
 * after the network, restarted when it stops. Both paths are checked again before they become part
 * of a unit line.
 */
export const K3S_UNIT = 'k3s-agent';

const UNIT_PATH = /^\/[A-Za-z0-9._/+-]{1,1023}$/;

export function renderK3sUnit(paths: { k3sBinary: string; configPath: string }): string {
  for (const [name, value] of Object.entries(paths)) {
    if (!UNIT_PATH.test(value)) throw new Error(`${name} "${value}" cannot go into a systemd unit line`);
  }
  return [
    '# Written by the Home Node agent at join. Do not edit.',
    '[Unit]',
    'Description=k3s agent (Home Node)',
    'Documentation=https://docs.k3s.io',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=notify',
    'ExecStartPre=-/sbin/modprobe br_netfilter',
    'ExecStartPre=-/sbin/modprobe overlay',
    `ExecStart=${paths.k3sBinary} agent --config ${paths.configPath}`,
    // k3s runs the pods' containers in its own cgroup tree and restarts them itself.
    'KillMode=process',
    'Delegate=yes',
    'LimitNOFILE=1048576',
    'LimitNPROC=infinity',
    'LimitCORE=infinity',
    'TasksMax=infinity',
    'TimeoutStartSec=0',
    'Restart=always',
    'RestartSec=5s',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
