// Entity names as OpenWhisk's EntityName accepts them.
import { HttpError, messages } from '../errors.ts';

const namePattern = /^(?:\w|\w[\w@ .&-]{0,254}[\w@.&-])$/;

export function checkEntityName(name: string): string {
  if (!namePattern.test(name)) throw new HttpError(400, messages.illegalName);
  return name;
}
