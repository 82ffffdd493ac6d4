// Boundary checks for placement inputs: a NaN load or a negative key rate would silently skew every
// comparison, so bad views fail loudly with the object named.
import { z } from 'zod';
import type { HostView, LinkView, PlacedContext, PlacementRequest } from './types.ts';

const fraction = z.number().min(0).max(1);
const rate = z.number().min(0).refine(Number.isFinite, 'must be finite');

const demand = z.object({
  app: z.string().min(1),
  maxLoad: fraction,
  minKeyAvailability: fraction,
  keyRate: rate,
  loadPerContext: fraction,
});

const hostView = z.object({
  name: z.string().min(1),
  kmeId: z.string().min(1),
  // Projected load may exceed 1 (measured load plus contexts placed since).
  load: z.number().min(0).refine(Number.isFinite, 'must be finite'),
  contexts: z.int().min(0),
  maxContexts: z.int().min(1).optional(),
});

const linkView = z.object({
  name: z.string().min(1),
  ends: z.tuple([z.string().min(1), z.string().min(1)]),
  keyAvailability: fraction,
  secretKeyRate: rate,
  committedKeyRate: rate,
});

const request = z.object({ context: z.string().min(1), clientKmeId: z.string().min(1), demand });
const placed = request.extend({ host: z.string().min(1), placedAt: z.number() });

function check<T>(schema: z.ZodType, what: string, items: readonly T[], name: (t: T) => string): void {
  for (const item of items) {
    const r = schema.safeParse(item);
    if (!r.success) throw new Error(`invalid ${what} ${name(item)}: ${z.prettifyError(r.error)}`);
  }
}

export function validateViews(hosts: readonly HostView[], links: readonly LinkView[]): void {
  check(hostView, 'host view', hosts, (h) => h.name);
  check(linkView, 'link view', links, (l) => l.name);
}

export function validateRequests(requests: readonly PlacementRequest[]): void {
  check(request, 'placement request', requests, (r) => r.context);
}

export function validatePlaced(contexts: readonly PlacedContext[]): void {
  check(placed, 'placed context', contexts, (c) => c.context);
}
