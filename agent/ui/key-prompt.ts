/**
 * The installation-key prompt. The key is checked locally (format and check symbol) before any
 * request, so a typo costs nothing: the person is told to re-check the characters and can fix them.
 */
import { input } from '@inquirer/prompts';
import { parseInstallationKey } from '../../protocol/key.js';
import type { Style } from './output.js';

export type AskKey = (message: string) => Promise<string>;

/** Thrown when the person leaves the prompt with Ctrl-C. */
export class PromptCancelledError extends Error {
  override readonly name = 'PromptCancelledError';
}

/** inquirer validation: true, or the message shown under the input. */
export function validateKeyInput(text: string): true | string {
  const parsed = parseInstallationKey(text);
  return parsed.ok ? true : parsed.message;
}

export function createKeyPrompt(
  style: Style,
  streams: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream },
): AskKey {
  const theme = style.enabled
    ? { validationFailureMode: 'keep' as const }
    : {
        validationFailureMode: 'keep' as const,
        prefix: { idle: '?', done: '>' },
        style: {
          answer: (t: string) => t,
          message: (t: string) => t,
          error: (t: string) => `> ${t}`,
          help: (t: string) => t,
          highlight: (t: string) => t,
          defaultAnswer: (t: string) => `(${t})`,
        },
      };
  return async (message) => {
    try {
      const answer = await input({ message, validate: validateKeyInput, theme }, streams);
      const parsed = parseInstallationKey(answer);
      return parsed.ok ? parsed.text : answer;
    } catch (error) {
      if (error instanceof Error && error.name === 'ExitPromptError')
        throw new PromptCancelledError('cancelled');
      throw error;
    }
  };
}
