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
    readonly extra: {
      details?: ErrorBody['details'];
      retryAfterSeconds?: number;
      allow?: string;
      /** Counted and logged where it was raised (a refusal a client may repeat in a tight loop). */
      quiet?: boolean;
    } = {},
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

/** The `details` entry naming the quota a refusal comes from; clients wait `retry_after_ms` out. */
export const QUOTA_DETAIL = 'mecqkd_key_quota';

/** QKD 014 allows 400, 401 and 503: a quota refusal is a 503 (try later) with Retry-After, nothing taken. */
export const quotaExceeded = (
  sae: string,
  q: { maxBandwidth: number; burstBits: number },
  retryAfterMs: number,
) =>
  new KmeError(
    503,
    `key quota of SAE ${sae} exceeded (app_qos max_bandwidth ${q.maxBandwidth} b/s, burst ${q.burstBits} bits): retry after ${retryAfterMs} ms`,
    {
      retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
      details: [
        {
          [QUOTA_DETAIL]: {
            max_bandwidth: q.maxBandwidth,
            burst_bits: q.burstBits,
            retry_after_ms: retryAfterMs,
          },
        },
      ],
      quiet: true,
    },
  );
