// Secret key rate of a fibre link from its length (docs/qkd014.md §3.3). Two published models:
// - exponential (ccicconetti/queer): SKR = r0 · e^(−k·L), r0 = 100 kb/s, k = 0.0609 /km;
// - asymptotic decoy-state BB84 (GLLP, infinite decoys; Ma, quant-ph/0503057) with the
//   Gobby–Yuan–Shields 2004 parameters, mean photon number optimised per distance.
import { z } from 'zod';

export const SkrModel = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('exponential'),
    r0BitsPerSecond: z.number().positive().default(100_000),
    perKm: z.number().min(0).default(0.0609),
  }),
  z.strictObject({
    type: z.literal('decoy-bb84'),
    clockHz: z.number().positive().default(1e9),
    alphaDbPerKm: z.number().min(0).default(0.21),
    detectorEfficiency: z.number().positive().max(1).default(0.045),
    darkCountYield: z.number().min(0).default(1.7e-6),
    misalignment: z.number().min(0).max(0.5).default(0.033),
    errorCorrectionEfficiency: z.number().min(1).default(1.22),
  }),
]);
export type SkrModel = z.infer<typeof SkrModel>;

export const DEFAULT_SKR_MODEL: SkrModel = SkrModel.parse({ type: 'exponential' });

const h2 = (p: number) => (p <= 0 || p >= 1 ? 0 : -p * Math.log2(p) - (1 - p) * Math.log2(1 - p));

/** Secret key bits per pulse for mean photon number `mu` (GLLP with infinite decoys). */
function decoyRatePerPulse(m: Extract<SkrModel, { type: 'decoy-bb84' }>, km: number, mu: number): number {
  const eta = m.detectorEfficiency * 10 ** ((-m.alphaDbPerKm * km) / 10);
  const y0 = m.darkCountYield;
  const detected = 1 - Math.exp(-eta * mu);
  const qMu = y0 + detected;
  const eMu = (0.5 * y0 + m.misalignment * detected) / qMu;
  const y1 = y0 + eta;
  const e1 = (0.5 * y0 + m.misalignment * eta) / y1;
  const q1 = y1 * mu * Math.exp(-mu);
  return 0.5 * (q1 * (1 - h2(e1)) - qMu * m.errorCorrectionEfficiency * h2(eMu));
}

/** Secret key rate in bits/s over `km` of fibre. */
export function secretKeyRate(model: SkrModel, km: number): number {
  if (model.type === 'exponential') return model.r0BitsPerSecond * Math.exp(-model.perKm * km);
  let best = 0;
  for (let mu = 0.01; mu <= 1; mu += 0.01) best = Math.max(best, decoyRatePerPulse(model, km, mu));
  return best * model.clockHz;
}
