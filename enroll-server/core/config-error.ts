/** A configuration problem: names the variable, the value and what is wrong with it. */
export class ConfigError extends Error {
  /** `value` undefined: the variable is not set (the message then names only the variable). */
  constructor(variable: string, value: string | undefined, problem: string) {
    super(
      value === undefined ? `${variable} ${problem}` : `${variable}=${JSON.stringify(value)}: ${problem}`,
    );
    this.name = 'ConfigError';
  }
}
