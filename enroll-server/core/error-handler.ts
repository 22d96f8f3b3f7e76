/** The one error handler: named errors and framework errors become `{ error: { code, message, details } }`. */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ErrorBody } from '../../protocol/api.js';
import { AppError, ServerBusyError } from './errors.js';

interface FieldProblem {
  field: string;
  message: string;
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** `/hardware/cpu/arch` → `hardware.cpu.arch`; a missing property is named by itself. */
function describeIssue(issue: ValidationIssue, part: string): FieldProblem {
  const path = (issue.instancePath ?? '').split('/').filter(Boolean);
  const params = issue.params ?? {};
  const missing = params.requiredProperties ?? params.missingProperty;
  if (issue.keyword === 'required' && missing !== undefined) {
    const names = (Array.isArray(missing) ? missing : [missing]).map(String);
    const field = [...path, names[0] ?? ''].join('.');
    return { field, message: `${part} is missing the required field '${field}'` };
  }
  const field = path.join('.') || part;
  return { field, message: `${part} field '${field}' ${issue.message ?? 'is not valid'}` };
}

const send = (code: string, message: string, details?: unknown): ErrorBody => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

/** SQLite's "database or disk is full" (and the I/O errors a full disk gives), PostgreSQL's disk_full. */
export function isStorageFull(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  // PostgreSQL's disk_full (53100) is the same condition on the other engine.
  return (
    typeof code === 'string' &&
    (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') || code === '53100')
  );
}

/**
 * PostgreSQL refused a transaction to keep it serialisable (40001) or to break a deadlock (40P01)
 * even after the engine ran it again several times: many requests change the same rows at once.
 */
export function isContended(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '40001' || code === '40P01';
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send(send('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`));
  });

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      if (error.headers) void reply.headers(error.headers);
      // A busy refusal is expected under load: one error log per refused request would flood the log.
      if (error.status >= 500 && !(error instanceof ServerBusyError))
        request.log.error({ err: error }, error.message);
      return reply.code(error.status).send(send(error.code, error.message, error.details));
    }
    if ('validation' in error && error.validation) {
      const part = error.validationContext ?? 'request';
      const problems = (error.validation as ValidationIssue[]).map((issue) => describeIssue(issue, part));
      return reply
        .code(400)
        .send(send('VALIDATION_FAILED', problems[0]?.message ?? 'The request is not valid.', problems));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(send('BODY_TOO_LARGE', 'The request body is too large.'));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send(send('MALFORMED_JSON', 'The request body is not valid JSON.'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send(send('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.'));
      default:
        break;
    }
    if (error instanceof SyntaxError && error.statusCode === 400) {
      return reply.code(400).send(send('MALFORMED_JSON', 'The request body is not valid JSON.'));
    }
    if (isStorageFull(error)) {
      request.log.error({ err: error, event: 'storage_full' }, 'the database cannot grow: storage is full');
      return reply
        .code(503)
        .header('retry-after', '30')
        .send(
          send(
            'UNAVAILABLE',
            "The server's storage is full, so nothing can be saved right now. Try again in a minute.",
          ),
        );
    }
    if (isContended(error)) {
      request.log.warn({ err: error, event: 'contended' }, 'a transaction kept colliding with others');
      return reply
        .code(503)
        .header('retry-after', '2')
        .send(
          send(
            'UNAVAILABLE',
            'The server is busy with many changes to the same records at once, so nothing was saved. Try again in a few seconds.',
          ),
        );
    }
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.code(status).send(send(error.code ?? 'BAD_REQUEST', error.message));
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send(send('INTERNAL', 'Something went wrong on the server. It has been logged.'));
  });
}
