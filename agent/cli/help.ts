/** `--help`: commands, options and exit codes. */
import { AGENT_VERSION } from '../version.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_STATE_DIR } from './config.js';

export const HELP_TEXT = `Home Node agent ${AGENT_VERSION}

Usage: npm run agent -- <command> [options]

Commands:
  run                 First boot: checks, key prompt, enrollment; then (and on
                      every start once enrolled) the control-channel daemon.
    --key KEY         The installation key (or set HOMENODE_KEY).
    --facts FILE      Take the hardware from a recorded facts file (the server
                      is still asked live); for tests and machines without
                      the hardware, e.g. test/fixtures/agent/facts/rtx4090.json
                      with test/fixtures/agent/bin-rtx4090 first on PATH.
  preflight           Check this machine and print the results.
    --json            Print { "checks": [...], "facts": {...} } instead.
    --facts FILE      Assess saved facts instead of this machine.
  enroll              Enroll without the welcome screen.
    --key KEY         The installation key (or set HOMENODE_KEY).
    --facts FILE      As for run.
  status [--json]     Node id, server, the status the server last reported
                      (and when), and the last preflight.
  reset --yes         Forget this machine's identity and enrollment.
  audit               Run the audit suite now (GPU, container runtime, CPU,
                      memory, disk, shared memory, network, cluster).
    --json            Print { "checks": [...], "skipped": [...] } instead.
    --light           Health checks only, no benchmarks.
    --expect-gpus U,U GPU UUIDs that must be present.

Common options:
  --server URL        The enroll server (overrides the config file).
  --state-dir DIR     Where state is kept (default ${DEFAULT_STATE_DIR}).
  --config FILE       Config file (default ${DEFAULT_CONFIG_PATH}).
  --allow-insecure-http
                      Allow a plain http:// server that is not this machine
                      (test networks only; every screen then warns). http to
                      127.0.0.0/8, ::1 or localhost needs no switch.
  -h, --help          This text.

Exit codes:
  0  done; for preflight: no check failed
  1  a preflight check failed (nothing was sent); audit: a check failed
  2  usage or configuration error
  3  the installation key was refused (typo, unknown, expired, used)
  4  the server refused the enrollment (hardware, revoked, conflict)
  5  the server could not be reached (the enrollment resumes later)
  6  status: this machine is not enrolled
  7  run: the server refuses this node (revoked or rejected); do not restart
  8  run (live medium): installing to disk failed; the live system stays usable
  9  audit: another audit is running on this machine
  75 run: ops asked for a restart (restart-agent)
  130 interrupted (Ctrl-C)
`;
