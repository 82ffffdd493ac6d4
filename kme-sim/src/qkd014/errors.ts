// Errors a KME answers with. The five 400 messages of clause 6 (docs/qkd014.md §1.7) are exact strings that
// clients compare against, so they live here once.
import type { ErrorBody } from './schemas.ts';

export const MESSAGES = {
  sizeMultipleOf8: 'size shall be a multiple of 8',
  extensionUnsupported: 'not all extension_mandatory parameters are supported',
  extensionUnmet: 'not all extension_mandatory request options could be met',
  keysNotFound: 'one or more keys specified are not found on KME',
} as const;

/** An answer other than 200, raised anywhere below a handler and turned into a response by the server. */
export class KmeError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 503,
    message: string,
    readonly extra: { details?: ErrorBody['details']; retryAfterSeconds?: number; allow?: string } = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return this.extra.details
      ? { message: this.message, details: this.extra.details }
      : { message: this.message };
  }
}

export const badRequest = (message: string, details?: ErrorBody['details']) =>
  new KmeError(400, message, details ? { details } : {});
export const unauthorised = (message: string) => new KmeError(401, message);
export const unavailable = (message: string, retryAfterSeconds: number) =>
  new KmeError(503, message, { retryAfterSeconds });
