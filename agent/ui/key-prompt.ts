/**
 * The installation-key prompt. The key is checked locally (format and check symbol) before any
 * request, so a typo costs nothing: the person is told to re-check the characters and can fix them.
 */
import { input } from '@inquirer/prompts';
import { parseInstallationKey } from '../../protocol/key.js';
import { wrapText, type Style } from './output.js';

export type AskKey = (message: string) => Promise<string>;

/** Thrown when the person leaves the prompt with Ctrl-C. */
export class PromptCancelledError extends Error {
  override readonly name = 'PromptCancelledError';
}

/** What inquirer puts before a validation message (`> `, both themes). */
const ERROR_LEAD = '> ';

/**
 * inquirer validation: true, or the message shown under the input, wrapped on word boundaries to
 * `width` columns (inquirer itself cuts a line that is too long at the terminal's edge, in the
 * middle of a word), continuation lines indented under the text.
 */
export function validateKeyInput(text: string, width = 79): true | string {
  const parsed = parseInstallationKey(text);
  if (parsed.ok) return true;
  const pad = ' '.repeat(ERROR_LEAD.length);
  return wrapText(parsed.message, width - ERROR_LEAD.length).join(`\n${pad}`);
}

export function createKeyPrompt(
  style: Style,
  streams: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream },
  width: number,
): AskKey {
  const theme = style.enabled
    ? { validationFailureMode: 'keep' as const }
    : {
        validationFailureMode: 'keep' as const,
        prefix: { idle: '?', done: '>' },
        style: {
          answer: (t: string) => t,
          message: (t: string) => t,
          error: (t: string) => `${ERROR_LEAD}${t}`,
          help: (t: string) => t,
          highlight: (t: string) => t,
          defaultAnswer: (t: string) => `(${t})`,
        },
      };
  return async (message) => {
    try {
      const validate = (text: string) => validateKeyInput(text, width);
      const answer = await input({ message, validate, theme }, streams);
      const parsed = parseInstallationKey(answer);
      return parsed.ok ? parsed.text : answer;
    } catch (error) {
      if (error instanceof Error && error.name === 'ExitPromptError')
        throw new PromptCancelledError('cancelled');
      throw error;
    }
  };
}
