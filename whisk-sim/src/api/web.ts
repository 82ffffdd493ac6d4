// /api/v1/web/{namespace}/{package}/{action}[.ext][/projection]: web actions (OW docs/webactions.md).
// No API key: the action must carry `web-export: true`, runs as its owner's namespace and is billed to
// it. Arguments are action parameters < query < body (a JSON object or form data; anything else
// arrives as `__ow_body`), plus `__ow_method`, `__ow_headers`, `__ow_path`; a request may override
// neither the `__ow_*` names nor, when the action is `final`, its bound parameters. The result is
// answered by extension: `.json` as JSON, `.http` (the default) from `{headers, statusCode, body}`,
// `.html`/`.text`/`.svg` the projected string. Packages are not simulated: only `default` exists.
import type { IncomingMessage } from 'node:http';
import type { Activation } from '../activations.ts';
import { annotation } from '../entities/actions.ts';
import { HttpError, messages } from '../errors.ts';
import { mergeArgs } from '../invoke.ts';
import type { ApiReply, Services } from '../server.ts';

const EXTENSIONS = ['json', 'http', 'html', 'text', 'svg'] as const;
type Extension = (typeof EXTENSIONS)[number];
const RESERVED = ['__ow_method', '__ow_headers', '__ow_path', '__ow_user', '__ow_body', '__ow_query'];
const TEXT_TYPES: Record<string, string> = {
  html: 'text/html; charset=UTF-8',
  text: 'text/plain; charset=UTF-8',
  svg: 'image/svg+xml',
};

export const WEB_PREFIX = '/api/v1/web/';

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, messages.malformed(`invalid URL path ${s}`));
  }
}

/** Namespace, package, action, extension and projection path of a web action URL. */
function parsePath(pathname: string) {
  const [ns, pkg, last, ...projection] = pathname.slice(WEB_PREFIX.length).split('/').map(decode);
  if (!ns || !pkg || !last) throw new HttpError(404, messages.notFound);
  const dot = last.lastIndexOf('.');
  const ext = dot > 0 ? last.slice(dot + 1) : '';
  const known = (EXTENSIONS as readonly string[]).includes(ext);
  return {
    ns,
    pkg,
    name: known ? last.slice(0, dot) : last,
    ext: (known ? ext : 'http') as Extension,
    projection: projection.filter(Boolean),
  };
}

function requestArgs(req: IncomingMessage, query: URLSearchParams, body: Buffer): Record<string, unknown> {
  const args: Record<string, unknown> = Object.fromEntries(query);
  const type = req.headers['content-type'] ?? '';
  if (body.length > 0) {
    let parsed: unknown;
    if (type.startsWith('application/json')) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new HttpError(400, messages.malformed((err as Error).message));
      }
    } else if (type.startsWith('application/x-www-form-urlencoded')) {
      parsed = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    }
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) Object.assign(args, parsed);
    else args.__ow_body = type.startsWith('text/') ? body.toString('utf8') : body.toString('base64');
  }
  const overridden = Object.keys(args).filter((k) => k !== '__ow_body' && RESERVED.includes(k));
  if (overridden.length > 0) throw new HttpError(400, messages.finalParams);
  return args;
}

function project(value: unknown, path: string[]): unknown {
  let v = value;
  for (const p of path)
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

function httpResponse(result: unknown): ApiReply {
  const r = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
  const headers = Object.fromEntries(
    Object.entries((r.headers as Record<string, unknown>) ?? {}).map(([k, v]) => [
      k.toLowerCase(),
      String(v),
    ]),
  );
  const status = typeof r.statusCode === 'number' ? r.statusCode : r.body === undefined ? 204 : 200;
  if (r.body === undefined) return { status, body: '', headers };
  if (typeof r.body === 'string') {
    const binary = headers['content-type'] && !/^text\/|json|xml|javascript/.test(headers['content-type']);
    return { status, body: binary ? Buffer.from(r.body, 'base64') : r.body, headers };
  }
  return { status, body: r.body, headers: { 'content-type': 'application/json', ...headers } };
}

function respond(ext: Extension, projection: string[], activation: Activation, tid: string): ApiReply {
  const { response } = activation;
  if (response.status !== 'success' && response.status !== 'application error') {
    const error = (response.result as { error?: unknown })?.error;
    return {
      status: 502,
      body: {
        error: typeof error === 'string' ? error : 'The action did not produce a valid response.',
        code: tid,
      },
    };
  }
  const failed = response.status === 'application error';
  // An application error projects its `error` field, whatever path was asked for.
  const value = failed ? project(response.result, ['error']) : project(response.result, projection);
  switch (ext) {
    case 'json':
      if (typeof value !== 'object' || value === null)
        return {
          status: 400,
          body: { error: 'The action did not return a dictionary or array.', code: tid },
        };
      return { status: failed ? 400 : 200, body: value, headers: { 'content-type': 'application/json' } };
    case 'http':
      return httpResponse(value);
    default: {
      const text = projection.length > 0 || failed ? value : project(value, [ext]);
      if (typeof text !== 'string')
        return { status: 400, body: { error: `The action did not produce a ${ext} response.`, code: tid } };
      return {
        status: failed ? 400 : 200,
        body: text,
        headers: { 'content-type': TEXT_TYPES[ext] as string },
      };
    }
  }
}

export async function handleWeb(
  services: Services,
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  tid: string,
): Promise<ApiReply> {
  const { ns, pkg, name, ext, projection } = parsePath(url.pathname);
  const owner = services.config.namespaces.find((n) => n.name === ns);
  const action = owner && pkg === 'default' ? services.actions.get(ns, name) : undefined;
  if (!owner || !action || annotation(action, 'web-export') !== true)
    throw new HttpError(404, messages.notFound);
  const maxPayload = services.config.limits.maxPayloadBytes;
  if (body.length > maxPayload) throw new HttpError(413, messages.payloadTooLarge(body.length, maxPayload));
  const method = (req.method ?? 'GET').toLowerCase();
  const args = mergeArgs(action, requestArgs(req, url.searchParams, body)) as Record<string, unknown>;
  Object.assign(args, {
    __ow_method: method,
    __ow_headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
    __ow_path: projection.length > 0 ? `/${projection.join('/')}` : '',
  });
  const { activationId, activation } = await services.invoker.activate({
    caller: owner,
    action,
    args,
    transactionId: tid,
    waitMs: services.config.limits.maxBlockingWaitMs,
  });
  const headers = { 'x-openwhisk-activation-id': activationId };
  if (!activation) return { status: 202, body: { activationId }, headers };
  const reply = respond(ext, projection, activation, tid);
  return { ...reply, headers: { ...reply.headers, ...headers } };
}
