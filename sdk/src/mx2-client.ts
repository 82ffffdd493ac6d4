// A typed MEC 016 V2.2.1 Mx2 client for device apps: the five operations under {apiRoot}/dev_app/v1,
// a bearer token on every call (one retry with a fresh token after a 401), requests checked with the
// LCMP's own schemas before they leave, answers validated with zod, refusals as Mx2Error carrying
// the ProblemDetails (status, title, detail, the fields at fault, Retry-After).
import type { z } from 'zod';
import { createHttpClient, type HttpClient, type HttpOptions } from './http.ts';
import {
  type AppContextBody,
  type ApplicationList,
  type ApplicationLocationAvailability,
  appContext,
  applicationList,
  applicationLocationAvailability,
  type CreatedAppContext,
  createdAppContext,
  type ProblemDetails,
  problemDetails,
} from './mx2-schemas.ts';
import type { TokenProvider } from './token.ts';

export const MX2_BASE = '/dev_app/v1';

/** The LCMP refused a call: its ProblemDetails, typed. */
export class Mx2Error extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly fields: string[];
  constructor(
    readonly operation: string,
    status: number,
    readonly problem: ProblemDetails | undefined,
    /** Seconds the server asked to wait (Retry-After), when it said. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    const title = problem?.title ?? `HTTP ${status}`;
    const detail = problem?.detail ?? '';
    super(`${operation}: ${status} ${title}${detail ? `: ${detail}` : ''}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.fields = problem?.fields ?? [];
  }
}

/** A request the client would not send: it breaks the MEC 016 data model (field-level messages). */
export class Mx2RequestError extends Error {
  constructor(
    readonly operation: string,
    readonly fields: string[],
    message: string,
  ) {
    super(`${operation}: invalid request: ${message}`);
  }
}

/** The LCMP answered something that is not MEC 016 (a bug there, or not an LCMP at all). */
export class Mx2ProtocolError extends Error {}

export interface AppListFilter {
  appName?: string[];
  appProvider?: string[];
  appSoftVersion?: string[];
  vendorId?: string[];
  serviceCont?: 0 | 1;
}

export interface Mx2ClientOptions {
  /** The LCMP's apiRoot, e.g. https://lcmp.example:8443 (the client appends /dev_app/v1). */
  url: string;
  token?: TokenProvider;
  /** An HTTP client to share, or options for one of the Mx2 client's own (CA, timeout). */
  http?: HttpClient | HttpOptions;
}

/** Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

function checked<S extends z.ZodType>(operation: string, schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const fields = r.error.issues.map((i) => (i.path.length ? i.path.join('.') : '(body)'));
  throw new Mx2RequestError(
    operation,
    fields,
    r.error.issues.map((i, n) => `${fields[n]}: ${i.message}`).join('; '),
  );
}

function answer<S extends z.ZodType>(operation: string, schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw new Mx2ProtocolError(
    `${operation}: the LCMP's answer is not MEC 016: ${first?.path.join('.') || '(body)'}: ${first?.message}`,
  );
}

const isHttpClient = (h: HttpClient | HttpOptions | undefined): h is HttpClient =>
  typeof (h as HttpClient | undefined)?.fetch === 'function';

export function createMx2Client(opts: Mx2ClientOptions) {
  const base = `${opts.url.replace(/\/+$/, '')}${MX2_BASE}`;
  const own = !isHttpClient(opts.http);
  const http = isHttpClient(opts.http) ? opts.http : createHttpClient(opts.http);

  async function call(operation: string, method: string, path: string, body?: unknown) {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
      if (opts.token) headers.authorization = `Bearer ${await opts.token.token()}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await http.fetch(`${base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      // a 401 is refused before anything happened: one retry with a fresh token is safe
      if (res.status === 401 && opts.token && attempt === 0) {
        opts.token.invalidate();
        continue;
      }
      if (res.status >= 400) {
        const p = problemDetails.safeParse(json);
        throw new Mx2Error(
          operation,
          res.status,
          p.success ? p.data : undefined,
          retryAfter(res.headers.get('retry-after')),
        );
      }
      return { status: res.status, json, headers: res.headers };
    }
  }

  const expect = (operation: string, got: number, want: number) => {
    if (got !== want) throw new Mx2ProtocolError(`${operation}: HTTP ${got} where MEC 016 says ${want}`);
  };

  return {
    /** GET /app_list: OR within one filter, AND across filters. */
    async listApps(filter: AppListFilter = {}): Promise<ApplicationList['appList']> {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(filter)) {
        for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) q.append(k, String(x));
      }
      const qs = q.toString();
      const r = await call('list applications', 'GET', `/app_list${qs ? `?${qs}` : ''}`);
      expect('list applications', r.status, 200);
      return answer('list applications', applicationList, r.json).appList;
    },

    /** POST /app_contexts: 201 with the placed instance and the context's Location. */
    async createContext(req: AppContextBody): Promise<{ context: CreatedAppContext; location: string }> {
      const op = 'create application context';
      const body = checked(op, appContext, req);
      const r = await call(op, 'POST', '/app_contexts', body);
      expect(op, r.status, 201);
      const context = answer(op, createdAppContext, r.json);
      const location = r.headers.get('location');
      if (!location) throw new Mx2ProtocolError(`${op}: 201 without a Location header`);
      return { context, location };
    },

    /** PUT /app_contexts/{id}: only callbackReference and appLocation change. */
    async updateContext(contextId: string, req: AppContextBody): Promise<void> {
      const op = `update application context ${contextId}`;
      const body = checked(op, appContext, req);
      const r = await call(op, 'PUT', `/app_contexts/${encodeURIComponent(contextId)}`, body);
      expect(op, r.status, 204);
    },

    async deleteContext(contextId: string): Promise<void> {
      const op = `delete application context ${contextId}`;
      const r = await call(op, 'DELETE', `/app_contexts/${encodeURIComponent(contextId)}`);
      expect(op, r.status, 204);
    },

    /** POST /obtain_app_loc_availability: where the app could run (appInfo.availableLocations). */
    async locationAvailability(
      req: ApplicationLocationAvailability,
    ): Promise<ApplicationLocationAvailability> {
      const op = 'obtain application location availability';
      const body = checked(op, applicationLocationAvailability, req);
      const r = await call(op, 'POST', '/obtain_app_loc_availability', body);
      expect(op, r.status, 200);
      return answer(op, applicationLocationAvailability, r.json);
    },

    close: () => (own ? http.close() : Promise.resolve()),
  };
}
export type Mx2Client = ReturnType<typeof createMx2Client>;
