// Turning the GET and POST forms of Key request (clause 6.2) and Key IDs (clause 6.4) into one validated
// shape each. Limits a KME advertises in Status are enforced in the handlers, not here.
import { z } from 'zod';
import { badRequest } from './errors.ts';
import { KeyIds, KeyRequest } from './schemas.ts';

const UUID = z.uuid();

export interface RawRequest {
  method: string;
  query: URLSearchParams;
  body: string;
}

function zodMessage(err: z.ZodError): string {
  return err.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw badRequest('request body is not valid JSON');
  }
}

function onlyParams(query: URLSearchParams, allowed: string[]): void {
  for (const name of new Set(query.keys())) {
    if (!allowed.includes(name)) throw badRequest(`unsupported query parameter ${name}`);
    if (query.getAll(name).length > 1) throw badRequest(`query parameter ${name} given more than once`);
  }
}

function positiveInteger(name: string, text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw badRequest(`${name} must be a positive integer`);
  }
  return Number(text);
}

/** GET `?number=&size=`, or POST with an empty body, `{}` or a Key request object. */
export function parseKeyRequest(req: RawRequest): KeyRequest {
  if (req.method === 'GET') {
    if (req.body.trim().length > 0) throw badRequest('a GET request carries no body; use POST');
    onlyParams(req.query, ['number', 'size']);
    const out: KeyRequest = {};
    const number = req.query.get('number');
    const size = req.query.get('size');
    if (number !== null) out.number = positiveInteger('number', number);
    if (size !== null) out.size = positiveInteger('size', size);
    return out;
  }
  onlyParams(req.query, []);
  if (req.body.trim().length === 0) return {};
  const parsed = KeyRequest.safeParse(parseJsonBody(req.body));
  if (!parsed.success) throw badRequest(`invalid Key request: ${zodMessage(parsed.error)}`);
  return parsed.data;
}

/** GET `?key_ID=` (one key), or POST with a Key IDs object. Returns the key IDs. */
export function parseKeyIds(req: RawRequest): string[] {
  let ids: string[];
  if (req.method === 'GET') {
    if (req.body.trim().length > 0) throw badRequest('a GET request carries no body; use POST');
    onlyParams(req.query, ['key_ID']);
    const id = req.query.get('key_ID');
    if (id === null) throw badRequest('key_ID is required');
    ids = [id];
  } else {
    onlyParams(req.query, []);
    if (req.body.trim().length === 0) throw badRequest('a Key IDs object is required');
    const parsed = KeyIds.safeParse(parseJsonBody(req.body));
    if (!parsed.success) throw badRequest(`invalid Key IDs: ${zodMessage(parsed.error)}`);
    ids = parsed.data.key_IDs.map((k) => k.key_ID);
  }
  for (const id of ids) {
    if (!UUID.safeParse(id).success)
      throw badRequest(`key_ID ${JSON.stringify(id).slice(0, 80)} is not a UUID`);
  }
  if (new Set(ids).size !== ids.length) throw badRequest('key_IDs contains the same key_ID more than once');
  return ids;
}
