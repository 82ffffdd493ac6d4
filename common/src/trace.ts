// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header that ties one
// context's story together across processes — the device app's Mx2 request, the LCMP, the operator's
// decisions (through an annotation on the AppContext), every invocation, the action wrapper and the
// host SAE. Each component logs the trace ID as `traceId`; `mecqkd trace` collects the lines.
import { randomBytes } from 'node:crypto';

export const TRACEPARENT_HEADER = 'traceparent';
/** Where the LCMP keeps the create request's traceparent on the AppContext. */
export const TRACEPARENT_ANNOTATION = 'mecqkd.io/traceparent';

export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: string;
}

const FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The header's fields, or undefined for anything the spec says to ignore (then start a new trace). */
export function parseTraceparent(header: string | string[] | undefined): TraceParent | undefined {
  if (typeof header !== 'string') return undefined;
  const m = FORMAT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  // version ff is invalid; version 00 has nothing after the flags; ids of zeros are invalid
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, flags: flags! };
}

export const newTraceId = () => randomBytes(16).toString('hex');

/** A traceparent for a new span of `traceId` (a new trace when absent), sampled. */
export function childTraceparent(traceId: string = newTraceId()): string {
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
}

/** The trace ID an object's traceparent annotation names, if it has a valid one. */
export function traceIdOf(obj: { metadata: { annotations?: Record<string, string> } }): string | undefined {
  return parseTraceparent(obj.metadata.annotations?.[TRACEPARENT_ANNOTATION])?.traceId;
}
