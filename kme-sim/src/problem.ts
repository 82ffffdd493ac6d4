// RFC 9457 ProblemDetails, the error shape of kme-sim's admin endpoint (QKD 014 routes keep the spec's
// `{message}` Error body).
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';

export const PROBLEM_JSON = 'application/problem+json';

export const Problem = z.object({
  type: z.string().optional(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
});
export type Problem = z.infer<typeof Problem>;

export const problem = (status: number, detail: string): Problem => ({
  title: STATUS_CODES[status] ?? 'Error',
  status,
  detail,
});
