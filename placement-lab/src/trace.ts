// The workload as a trace drawn before any policy runs (common random numbers): every policy sees the
// same arrivals, apps, holding times and link disturbances for a seed, so differences are the policy's.
import { type Rng, seededRng } from '@mecqkd/operator/placement/rng';

export interface Arrival {
  time: number;
  app: number;
  holding: number;
}

export interface Disturbance {
  time: number;
  link: number;
  /** Secret key rate as a fraction of nominal from this time on. */
  factor: number;
}

export interface DisturbanceModel {
  /** Mean time a link stays at its nominal rate, s. */
  meanUpS: number;
  /** Mean time a disturbance (fibre stress, misalignment) lasts, s. */
  meanDownS: number;
  /** Secret key rate during a disturbance, fraction of nominal. */
  factor: number;
}

const exponential = (rng: Rng, mean: number) => -mean * Math.log(1 - rng());

/** Poisson arrivals of rate `rate`/s, apps uniform over the catalogue, exponential holding times. */
export function arrivalTrace(
  seed: number,
  apps: number,
  count: number,
  rate: number,
  meanHoldingS: number,
): Arrival[] {
  const rng = seededRng(seed * 104_729 + 17);
  const trace: Arrival[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    t += exponential(rng, 1 / rate);
    trace.push({ time: t, app: Math.floor(rng() * apps), holding: exponential(rng, meanHoldingS) });
  }
  return trace;
}

/** Alternating up/disturbed periods per link, exponential durations, until `horizon`. */
export function disturbanceTrace(
  seed: number,
  links: number,
  horizon: number,
  model: DisturbanceModel,
): Disturbance[] {
  const rng = seededRng(seed * 15_485_863 + 29);
  const out: Disturbance[] = [];
  for (let link = 0; link < links; link++) {
    let t = exponential(rng, model.meanUpS);
    while (t < horizon) {
      out.push({ time: t, link, factor: model.factor });
      t += exponential(rng, model.meanDownS);
      out.push({ time: t, link, factor: 1 });
      t += exponential(rng, model.meanUpS);
    }
  }
  return out.sort((a, b) => a.time - b.time || a.link - b.link);
}
