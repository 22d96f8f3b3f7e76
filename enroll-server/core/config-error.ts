/** A configuration problem: names the variable, the value and what is wrong with it. */
export class ConfigError extends Error {
  constructor(variable: string, value: string, problem: string) {
    super(`${variable}=${JSON.stringify(value)}: ${problem}`);
    this.name = 'ConfigError';
  }
}
