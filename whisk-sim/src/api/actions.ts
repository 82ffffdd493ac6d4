// /api/v1/namespaces/{ns}/actions[/{name}]: list, PUT, GET, DELETE and invoke.
import { fullView, listView } from '../entities/actions.ts';
import { HttpError, messages } from '../errors.ts';
import { page, parseListParams } from '../list-params.ts';
import type { ApiReply, ApiRequest, Services } from '../server.ts';

export async function handleActions(services: Services, req: ApiRequest): Promise<ApiReply> {
  const { actions } = services;
  const ns = req.namespace;
  if (req.segments.length === 0) {
    if (req.method !== 'GET') throw new HttpError(405, 'HTTP method not allowed, supported methods: GET');
    const params = parseListParams(req.query, 'actions');
    const all = actions.list(ns);
    if (params.count) return { status: 200, body: { actions: all.length } };
    return { status: 200, body: page(all, params).map(listView) };
  }
  // Packages are not simulated: `pkg/action` paths name nothing.
  if (req.segments.length !== 1) throw new HttpError(404, messages.notFound);
  const name = req.segments[0] as string;
  switch (req.method) {
    case 'PUT': {
      if (req.body.length > 0 && !req.contentType.startsWith('application/json')) {
        throw new HttpError(415, messages.contentType);
      }
      const body = parseJsonBody(req.body);
      const action = actions.put(ns, name, body, req.query.get('overwrite') === 'true');
      return { status: 200, body: fullView(action) };
    }
    case 'GET': {
      const action = actions.get(ns, name);
      if (!action) throw new HttpError(404, messages.notFound);
      return { status: 200, body: fullView(action, req.query.get('code') !== 'false') };
    }
    case 'DELETE': {
      const action = actions.delete(ns, name);
      if (!action) throw new HttpError(404, messages.notFound);
      return { status: 200, body: fullView(action) };
    }
    case 'POST': {
      const action = actions.get(ns, name);
      if (!action) throw new HttpError(404, messages.notFound);
      if (services.runtimes.resolve(action.exec.kind)?.deprecated) {
        throw new HttpError(400, messages.deprecatedRuntime(action.exec.kind));
      }
      return services.invoker.invoke({
        caller: req.caller,
        action,
        body: req.body,
        query: req.query,
        transactionId: req.transactionId,
      });
    }
    default:
      throw new HttpError(405, 'HTTP method not allowed, supported methods: GET, PUT, DELETE, POST');
  }
}

function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, messages.malformed((err as Error).message));
  }
}
