/** Named application errors; one handler in `plugins/errors.ts` turns them into the error body. */
import type { ErrorCode } from '../../protocol/api.js';

export class AppError extends Error {
  readonly code: ErrorCode = 'INTERNAL';
  readonly status: number = 500;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;

  constructor(
    message: string,
    options: { details?: unknown; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export class ValidationError extends AppError {
  override readonly code = 'VALIDATION_FAILED';
  override readonly status = 400;
}
export class PrivateKeySentError extends AppError {
  override readonly code = 'PRIVATE_KEY_SENT';
  override readonly status = 400;
}
export class UnauthenticatedError extends AppError {
  override readonly code = 'UNAUTHENTICATED';
  override readonly status = 401;
}
export class KeyInvalidError extends AppError {
  override readonly code = 'KEY_INVALID';
  override readonly status = 401;
}
export class KeyExpiredError extends AppError {
  override readonly code = 'KEY_EXPIRED';
  override readonly status = 401;
}
export class KeyUsedError extends AppError {
  override readonly code = 'KEY_USED';
  override readonly status = 401;
}
export class KeyRevokedError extends AppError {
  override readonly code = 'KEY_REVOKED';
  override readonly status = 401;
}
export class ForbiddenError extends AppError {
  override readonly code = 'FORBIDDEN';
  override readonly status = 403;
}
export class HardwareRejectedError extends AppError {
  override readonly code = 'HARDWARE_REJECTED';
  override readonly status = 403;
}
export class NodeRevokedError extends AppError {
  override readonly code = 'NODE_REVOKED';
  override readonly status = 403;
}
export class NodeRejectedError extends AppError {
  override readonly code = 'NODE_REJECTED';
  override readonly status = 403;
}
export class NodeNotApprovedError extends AppError {
  override readonly code = 'NODE_NOT_APPROVED';
  override readonly status = 403;
}
export class NotFoundError extends AppError {
  override readonly code = 'NOT_FOUND';
  override readonly status = 404;
}
export class NotAttestedError extends AppError {
  override readonly code = 'NOT_ATTESTED';
  override readonly status = 404;
}
export class ConflictError extends AppError {
  override readonly code = 'CONFLICT';
  override readonly status = 409;
}
export class FingerprintConflictError extends AppError {
  override readonly code = 'FINGERPRINT_CONFLICT';
  override readonly status = 409;
}
export class InvalidTransitionError extends AppError {
  override readonly code = 'INVALID_TRANSITION';
  override readonly status = 409;
}
export class ArtifactExistsError extends AppError {
  override readonly code = 'ARTIFACT_EXISTS';
  override readonly status = 409;
}
export class PayloadTooLargeError extends AppError {
  override readonly code = 'BODY_TOO_LARGE';
  override readonly status = 413;
}
export class UnsupportedMediaTypeError extends AppError {
  override readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  override readonly status = 415;
}
export class RangeNotSatisfiableError extends AppError {
  override readonly code = 'RANGE_NOT_SATISFIABLE';
  override readonly status = 416;
}
export class StorageFullError extends AppError {
  override readonly code = 'STORAGE_FULL';
  override readonly status = 507;
}
export class RateLimitedError extends AppError {
  override readonly code = 'RATE_LIMITED';
  override readonly status = 429;
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { headers: { 'retry-after': String(retryAfterSeconds) }, details: { retryAfterSeconds } });
  }
}
export class PeriodNotEndedError extends AppError {
  override readonly code = 'PERIOD_NOT_ENDED';
  override readonly status = 409;
}
export class NoRateCardError extends AppError {
  override readonly code = 'NO_RATE_CARD';
  override readonly status = 409;
}
export class EmailNotVerifiedError extends AppError {
  override readonly code = 'EMAIL_NOT_VERIFIED';
  override readonly status = 403;
}
/** A mailed link (confirmation, password reset) that is unknown, expired or used already. */
export class LinkInvalidError extends AppError {
  override readonly code = 'LINK_INVALID';
  override readonly status = 400;
}
export class LinkExpiredError extends AppError {
  override readonly code = 'LINK_EXPIRED';
  override readonly status = 400;
}
export class LinkUsedError extends AppError {
  override readonly code = 'LINK_USED';
  override readonly status = 400;
}
export class WebhookUrlRefusedError extends AppError {
  override readonly code = 'WEBHOOK_URL_REFUSED';
  override readonly status = 400;
}
/** The server cannot take this now (e.g. it holds as many connections as it may); try again later. */
export class UnavailableError extends AppError {
  override readonly code = 'UNAVAILABLE';
  override readonly status = 503;
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { headers: { 'retry-after': String(retryAfterSeconds) }, details: { retryAfterSeconds } });
  }
}
/** Too many requests of one costly kind are waiting (e.g. password checks); try again later. */
export class ServerBusyError extends UnavailableError {}
/** The database has no built-in backup route (PostgreSQL: use its own tools). */
export class BackupUnavailableError extends AppError {
  override readonly code = 'CONFLICT';
  override readonly status = 409;
}
