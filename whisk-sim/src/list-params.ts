// `limit`, `skip` and `count` of collection listings, with the controller's defaults and messages.
import { HttpError, messages } from './errors.ts';

export const MAX_LIST_LIMIT = 200;
const DEFAULT_LIST_LIMIT = 30;

export interface ListParams {
  limit: number;
  skip: number;
  count: boolean;
}

function integer(raw: string, collection: string): number {
  if (!/^-?\d+$/.test(raw)) throw new HttpError(400, messages.notInteger(raw, collection));
  return Number(raw);
}

export function parseListParams(query: URLSearchParams, collection: string): ListParams {
  const rawLimit = query.get('limit');
  const rawSkip = query.get('skip');
  let limit = rawLimit === null ? DEFAULT_LIST_LIMIT : integer(rawLimit, collection);
  if (limit < 0 || limit > MAX_LIST_LIMIT) {
    throw new HttpError(400, messages.listLimit(String(rawLimit), MAX_LIST_LIMIT, collection));
  }
  if (limit === 0) limit = MAX_LIST_LIMIT;
  const skip = rawSkip === null ? 0 : integer(rawSkip, collection);
  if (skip < 0) throw new HttpError(400, messages.listSkip(String(rawSkip), collection));
  return { limit, skip, count: query.get('count') === 'true' };
}

export function page<T>(items: T[], params: ListParams): T[] {
  return items.slice(params.skip, params.skip + params.limit);
}
