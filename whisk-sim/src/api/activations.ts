// /api/v1/namespaces/{ns}/activations[/{id}[/result|/logs]].
import { briefView, checkActivationId, recordView, responseView } from '../activations.ts';
import { HttpError, messages } from '../errors.ts';
import { parseListParams } from '../list-params.ts';
import type { ApiReply, ApiRequest, Services } from '../server.ts';

function epochMs(raw: string | null, what: string): number | undefined {
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, messages.notInteger(raw, what));
  return Number(raw);
}

export async function handleActivations(services: Services, req: ApiRequest): Promise<ApiReply> {
  if (req.method !== 'GET') throw new HttpError(405, 'HTTP method not allowed, supported methods: GET');
  const { activations } = services;
  const [id, part, ...extra] = req.segments;
  if (id === undefined) {
    const params = parseListParams(req.query, 'activations');
    const docs = req.query.get('docs') === 'true';
    if (docs && params.count) throw new HttpError(400, messages.docsWithCount);
    const name = req.query.get('name') ?? undefined;
    const since = epochMs(req.query.get('since'), 'since');
    const upto = epochMs(req.query.get('upto'), 'upto');
    const list = activations.list(req.namespace, {
      ...params,
      ...(name !== undefined ? { name } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(upto !== undefined ? { upto } : {}),
    });
    if (params.count) return { status: 200, body: { activations: list.length } };
    return { status: 200, body: list.map(docs ? recordView : briefView) };
  }
  if (extra.length > 0) throw new HttpError(404, messages.notFound);
  const activation = activations.get(req.namespace, checkActivationId(id));
  if (!activation) throw new HttpError(404, messages.notFound);
  switch (part) {
    case undefined:
      return { status: 200, body: recordView(activation) };
    case 'result':
      return { status: 200, body: responseView(activation.response) };
    case 'logs':
      return { status: 200, body: { logs: activation.logs } };
    default:
      throw new HttpError(404, messages.notFound);
  }
}
