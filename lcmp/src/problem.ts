// RFC 7807 ProblemDetails (MEC 016 6.5.1): the one error shape the LCMP answers with. status, title
// and detail are always present; field paths of validation errors go into `detail` and `fields`.
import { STATUS_CODES } from 'node:http';

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** Extension member: the request fields at fault, as dotted paths. */
  fields?: string[];
}

export class ProblemError extends Error {
  readonly headers: Record<string, string>;
  constructor(
    readonly problem: Problem,
    headers: Record<string, string> = {},
  ) {
    super(problem.detail);
    this.headers = headers;
  }
}

export function problem(status: number, detail: string, extra: Partial<Problem> = {}): Problem {
  return { title: STATUS_CODES[status] ?? 'Error', status, detail, ...extra };
}

export const fail = (status: number, detail: string, headers?: Record<string, string>) =>
  new ProblemError(problem(status, detail), headers);

export const PROBLEM_JSON = 'application/problem+json';
