// Activation records: ids, the four result statuses, the stored record, the list summary and the
// listing filters of GET …/activations. Records appear only once an activation has completed.
import type { KeyValue } from './entities/actions.ts';
import { HttpError, messages } from './errors.ts';
import { randomId } from './ids.ts';
import { type ListParams, page } from './list-params.ts';

export const STATUS = {
  success: { statusCode: 0, status: 'success' },
  applicationError: { statusCode: 1, status: 'application error' },
  developerError: { statusCode: 2, status: 'action developer error' },
  internalError: { statusCode: 3, status: 'whisk internal error' },
} as const;
export type ActivationStatus = (typeof STATUS)[keyof typeof STATUS];

/** The user-events `status` label for each activation status. */
export const STATUS_LABEL: Record<number, string> = {
  0: 'success',
  1: 'application_error',
  2: 'action_developer_error',
  3: 'whisk_internal_error',
};

export interface ActivationResponse {
  status: ActivationStatus['status'];
  statusCode: ActivationStatus['statusCode'];
  success: boolean;
  result: unknown;
  size: number;
}

export interface Activation {
  namespace: string;
  name: string;
  subject: string;
  activationId: string;
  start: number;
  end: number;
  duration: number;
  response: ActivationResponse;
  logs: string[];
  version: string;
  publish: boolean;
  annotations: KeyValue[];
}

export function newActivationId(): string {
  return randomId();
}

export function checkActivationId(id: string): string {
  if (id.length !== 32) throw new HttpError(400, messages.activationIdLength(id.length));
  if (!/^[0-9a-f]{32}$/.test(id)) throw new HttpError(400, messages.activationIdInvalid);
  return id;
}

/** `{status, success, result, size}`: the record's response as the API shows it. */
export function responseView(r: ActivationResponse): Omit<ActivationResponse, 'statusCode'> {
  return { status: r.status, success: r.success, result: r.result, size: r.size };
}

export function recordView(a: Activation): Record<string, unknown> {
  return { ...a, response: responseView(a.response) };
}

export function briefView(a: Activation): Record<string, unknown> {
  const { namespace, name, version, publish, annotations, activationId, start, end, duration } = a;
  return {
    namespace,
    name,
    version,
    publish,
    annotations,
    activationId,
    start,
    end,
    duration,
    statusCode: a.response.statusCode,
  };
}

export interface ActivationFilter extends ListParams {
  name?: string;
  since?: number;
  upto?: number;
}

/** At most `maxRecords` records, none completed more than `retentionMs` ago. */
export function createActivationStore(opts: { maxRecords: number; retentionMs: number; now?: () => number }) {
  const now = opts.now ?? Date.now;
  // Insertion order is completion order, which lets the oldest be dropped cheaply.
  const records = new Map<string, Activation>();
  const dropOld = () => {
    const cutoff = now() - opts.retentionMs;
    for (const [id, a] of records) {
      if (records.size <= opts.maxRecords && a.end >= cutoff) break;
      records.delete(id);
    }
  };
  return {
    add(a: Activation): void {
      records.set(a.activationId, a);
      dropOld();
    },
    get(namespace: string, id: string): Activation | undefined {
      dropOld();
      const a = records.get(id);
      return a && a.namespace === namespace ? a : undefined;
    },
    /** Newest first (by start), filtered as the controller filters. */
    list(namespace: string, filter: ActivationFilter): Activation[] {
      dropOld();
      // Reversed first: the sort is stable, so equal starts stay newest-completed first.
      const matches = [...records.values()]
        .reverse()
        .filter(
          (a) =>
            a.namespace === namespace &&
            (filter.name === undefined ||
              a.name === filter.name ||
              pathOf(a) === `${namespace}/${filter.name}`) &&
            (filter.since === undefined || a.start >= filter.since) &&
            (filter.upto === undefined || a.start <= filter.upto),
        );
      matches.sort((x, y) => y.start - x.start);
      return filter.count ? matches : page(matches, filter);
    },
  };
}
export type ActivationStore = ReturnType<typeof createActivationStore>;

function pathOf(a: Activation): unknown {
  return a.annotations.find((kv) => kv.key === 'path')?.value;
}
