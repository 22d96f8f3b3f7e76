/** One enrollment attempt over HTTP, classified into what the caller should do next. */
import { Compile } from 'typebox/compile';
import {
  EnrollResponseSchema,
  ErrorBodySchema,
  type EnrollRequest,
  type EnrollResponse,
} from '../../protocol/api.js';
import { NetworkError, type HttpClient } from '../net/http-request.js';
import { withSlash } from '../probe/connectivity.js';
import { parseRetryAfter } from './backoff.js';

const EnrollAnswer = Compile(EnrollResponseSchema);
const ErrorAnswer = Compile(ErrorBodySchema);

export type AttemptOutcome =
  | { kind: 'enrolled'; response: EnrollResponse; httpStatus: number }
  | { kind: 'refused'; httpStatus: number; code: string; message: string; details?: unknown }
  | { kind: 'retry'; reason: string; retryAfterMs?: number | undefined };

export async function attemptEnrollment(
  http: HttpClient,
  serverUrl: string,
  request: EnrollRequest,
  now: () => number,
): Promise<AttemptOutcome> {
  let response;
  try {
    response = await http({
      method: 'POST',
      url: new URL('v1/enroll', withSlash(serverUrl)).href,
      body: request,
      timeoutMs: 30_000,
    });
  } catch (error) {
    if (error instanceof NetworkError) return { kind: 'retry', reason: error.message };
    throw error;
  }
  const { status, headers, text } = response;
  const body = safeJson(text);
  if ((status === 200 || status === 201) && EnrollAnswer.Check(body)) {
    return { kind: 'enrolled', response: body, httpStatus: status };
  }
  const error = ErrorAnswer.Check(body) ? body.error : undefined;
  if (status === 429 || status >= 500) {
    const reason =
      status === 429 ? 'the server asked us to slow down' : `the server had a problem (HTTP ${status})`;
    return { kind: 'retry', reason, retryAfterMs: parseRetryAfter(headers['retry-after'], now()) };
  }
  if (status >= 400 && status < 500) {
    return {
      kind: 'refused',
      httpStatus: status,
      code: error?.code ?? `HTTP_${status}`,
      message: error?.message ?? `The server answered HTTP ${status}.`,
      ...(error?.details === undefined ? {} : { details: error.details }),
    };
  }
  // A 2xx or 3xx that is not an enrollment answer: a proxy or portal is in the way; it may heal.
  return { kind: 'retry', reason: `unexpected answer from the server (HTTP ${status})` };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
