/** What a refusal from the server means for the person at the console, and what to do next. */

export interface Explanation {
  title: string;
  what: string;
  next: string;
  /** True when typing another key may help (the prompt is offered again). */
  anotherKeyHelps: boolean;
}

const NEW_KEY = 'Generate a new installation key on the Home Node website and type it here.';

const BY_CODE: Record<string, Omit<Explanation, 'what'> & { what?: string }> = {
  KEY_INVALID: {
    title: 'The server does not recognise this key',
    what: 'No installation key with these characters exists. It may have been typed from an old or different key.',
    next: 'Compare every character with the key on the website, or generate a new key there.',
    anotherKeyHelps: true,
  },
  KEY_EXPIRED: {
    title: 'This installation key has expired',
    what: 'Installation keys are valid for a limited time (7 days unless chosen otherwise).',
    next: NEW_KEY,
    anotherKeyHelps: true,
  },
  KEY_USED: {
    title: 'This installation key has already been used',
    what: 'Each key enrolls a limited number of machines, and this one has none left.',
    next: NEW_KEY,
    anotherKeyHelps: true,
  },
  KEY_REVOKED: {
    title: 'This installation key was revoked',
    what: 'The key was cancelled on the website, by you or by the operations team.',
    next: NEW_KEY,
    anotherKeyHelps: true,
  },
  HARDWARE_REJECTED: {
    title: 'The server refused this machine',
    next: 'Fix the problems listed above, then restart this machine to try again.',
    anotherKeyHelps: false,
  },
  NODE_REVOKED: {
    title: 'This machine was removed from Home Node',
    what: 'The operations team revoked this machine, so it cannot enroll again.',
    next: 'Contact Home Node support if you think this is a mistake.',
    anotherKeyHelps: false,
  },
  FINGERPRINT_CONFLICT: {
    title: 'This machine is already enrolled under another account',
    what: 'The same hardware is registered to a different Home Node account.',
    next: 'Sign in with the account that enrolled it first, or contact Home Node support to move it.',
    anotherKeyHelps: false,
  },
};

export function explainRefusal(code: string, serverMessage: string): Explanation {
  const known = BY_CODE[code];
  if (known) return { ...known, what: known.what ?? serverMessage };
  return {
    title: 'The server could not accept this enrollment',
    what: serverMessage,
    next:
      'Restart this machine to try again. If it keeps happening, contact Home Node support and quote the code ' +
      code +
      '.',
    anotherKeyHelps: false,
  };
}

/** The failed checks a `HARDWARE_REJECTED` answer carries (`details.checks`), as `summary: fix` lines. */
export function rejectedChecks(details: unknown): string[] {
  if (typeof details !== 'object' || details === null || !('checks' in details)) return [];
  const { checks } = details;
  if (!Array.isArray(checks)) return [];
  return checks.flatMap((c: unknown) => {
    if (typeof c !== 'object' || c === null) return [];
    const summary = 'summary' in c && typeof c.summary === 'string' ? c.summary : undefined;
    const fix = 'fix' in c && typeof c.fix === 'string' ? c.fix : '';
    return summary ? [fix ? `${summary}. Fix: ${fix}` : summary] : [];
  });
}
