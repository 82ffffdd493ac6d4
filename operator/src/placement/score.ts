// The score of a host for one context, in [0,1]: a weighted mean of five terms, each in [0,1], computed
// as the host would be with the context on it (so an origin and a target compare like for like):
//   load      1 − load                   (load includes the context's own loadPerContext)
//   keys      bottleneck key availability of the key path (stored key)
//   headroom  bottleneck share of a hop's secret key rate left spare (key rate: keyHeadroom)
//   path      1 / (1 + hops)             (1 when client and host share a KME, ½ for a direct link)
//   contexts  1 − contexts / maxContexts, or 1 / (1 + contexts) without a maximum
// score = Σ wᵢ·termᵢ / Σ wᵢ.
// Headroom weighs most of the five by default: a QKD link's rate falls when its fibre is disturbed, and a hop that
// kept a share of its rate spare stays within it (or drains slowly enough to outlast the disturbance)
// where a full one must shed contexts by migration or lose them (docs/placement-lab.md).
import { z } from 'zod';
import type { ScoreWeights } from './types.ts';

const weight = z.number().min(0).max(1e6);

export const scoreWeightsSchema = z
  .object({
    load: weight,
    keyAvailability: weight,
    pathLength: weight,
    contexts: weight,
    keyHeadroom: weight,
  })
  .refine((w) => w.load + w.keyAvailability + w.pathLength + w.contexts + w.keyHeadroom > 0, {
    message: 'at least one score weight must be positive',
  });

export const DEFAULT_WEIGHTS: ScoreWeights = {
  load: 1,
  keyAvailability: 0.5,
  pathLength: 0.25,
  contexts: 0.25,
  keyHeadroom: 4,
};

export function parseWeights(input: unknown): ScoreWeights {
  const parsed = scoreWeightsSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid score weights: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export interface ScoredState {
  /** Host load with the context on it. */
  load: number;
  /** Contexts on the host, this one included. */
  contexts: number;
  maxContexts?: number;
  hops: number;
  keyAvailability: number;
  /** keyHeadroom of the path with the context on it (1 for a path of no hop). */
  keyHeadroom: number;
}

const unit = (x: number) => Math.min(1, Math.max(0, x));

export function score(w: ScoreWeights, s: ScoredState): number {
  const contexts = s.maxContexts ? 1 - s.contexts / s.maxContexts : 1 / (1 + s.contexts);
  const sum =
    w.load * unit(1 - s.load) +
    w.keyAvailability * unit(s.keyAvailability) +
    w.pathLength * (1 / (1 + s.hops)) +
    w.contexts * unit(contexts) +
    w.keyHeadroom * unit(s.keyHeadroom);
  return sum / (w.load + w.keyAvailability + w.pathLength + w.contexts + w.keyHeadroom);
}
