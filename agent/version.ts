/** The agent's version, sent with enrollment and shown by `--help`. */
export const AGENT_VERSION = '0.1.0';
