// Simulated ward patients for the demo, its test and the ward tablet console: a seeded generator
// (the same seed gives the same patients) whose vital signs and laboratory values fall in realistic
// clinical ranges, and the argument objects of the two hospital models built from one patient.
// Ranges: Framingham CVD cohort (D'Agostino et al., Circulation 2008; ages 30–74, TC 100–405 mg/dL,
// HDL 10–100 mg/dL, SBP 90–200 mmHg) and ISARIC 4C admissions (Knight et al., BMJ 2020).
import { type Rng, seededRng } from '@mecqkd/operator/placement/rng';

export const WARDS = ['cardiology', 'internal-medicine', 'covid-ward', 'icu'] as const;
export type Ward = (typeof WARDS)[number];

export interface Patient {
  /** Pseudonymous reference, e.g. "ICU-0007": stands for the personal data the models receive. */
  id: string;
  ward: Ward;
  sex: 'female' | 'male';
  age: number;
  totalCholesterol: number;
  hdlCholesterol: number;
  systolicBloodPressure: number;
  bloodPressureTreated: boolean;
  smoker: boolean;
  diabetes: boolean;
  comorbidities: number;
  respiratoryRate: number;
  oxygenSaturation: number;
  glasgowComaScale: number;
  ureaMmolL: number;
  crpMgL: number;
}

/** Arguments of examples/actions/cardio-risk.js. */
export type CardioArgs = Pick<
  Patient,
  | 'sex'
  | 'age'
  | 'totalCholesterol'
  | 'hdlCholesterol'
  | 'systolicBloodPressure'
  | 'bloodPressureTreated'
  | 'smoker'
  | 'diabetes'
>;
/** Arguments of examples/actions/covid-risk.js. */
export type CovidArgs = Pick<
  Patient,
  | 'sex'
  | 'age'
  | 'comorbidities'
  | 'respiratoryRate'
  | 'oxygenSaturation'
  | 'glasgowComaScale'
  | 'ureaMmolL'
  | 'crpMgL'
>;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round = (v: number, digits = 0) => Number(v.toFixed(digits));

/** Box–Muller: a normal draw from two uniform ones. */
function normal(rng: Rng, mean: number, sd: number): number {
  const u = 1 - rng();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const WARD_TAG: Record<Ward, string> = {
  cardiology: 'CAR',
  'internal-medicine': 'MED',
  'covid-ward': 'COV',
  icu: 'ICU',
};

/** How ill a ward's patients tend to be: shifts the respiratory and inflammatory values. */
const SEVERITY: Record<Ward, number> = { cardiology: 0, 'internal-medicine': 0.3, 'covid-ward': 0.7, icu: 1 };

export function createPatientGenerator(seed = 1) {
  const rng = seededRng(seed);
  const counters = new Map<Ward, number>();
  const chance = (p: number) => rng() < p;

  function next(ward: Ward = WARDS[Math.floor(rng() * WARDS.length)]!): Patient {
    const n = (counters.get(ward) ?? 0) + 1;
    counters.set(ward, n);
    const s = SEVERITY[ward];
    const sex = chance(0.5) ? 'female' : 'male';
    const age = Math.round(clamp(normal(rng, 58, 10), 30, 74));
    const older = (age - 30) / 44;
    const hypertensive = chance(0.25 + 0.35 * older);
    const ill = clamp(normal(rng, s, 0.25), 0, 1.3);
    return {
      id: `${WARD_TAG[ward]}-${String(n).padStart(4, '0')}`,
      ward,
      sex,
      age,
      totalCholesterol: Math.round(clamp(normal(rng, 200, 38), 110, 360)),
      hdlCholesterol: Math.round(clamp(normal(rng, sex === 'female' ? 57 : 46, 13), 20, 100)),
      systolicBloodPressure: Math.round(
        clamp(normal(rng, 118 + 22 * older + (hypertensive ? 16 : 0), 15), 90, 200),
      ),
      bloodPressureTreated: hypertensive && chance(0.7),
      smoker: chance(0.2),
      diabetes: chance(0.08 + 0.12 * older),
      comorbidities: Math.min(5, Math.floor(clamp(normal(rng, 0.6 + 2 * older, 1), 0, 5.9))),
      respiratoryRate: Math.round(clamp(normal(rng, 16 + 10 * ill, 3), 10, 40)),
      oxygenSaturation: Math.round(clamp(normal(rng, 97 - 8 * ill, 2), 75, 100)),
      glasgowComaScale: chance(0.05 + 0.35 * ill) ? Math.round(clamp(normal(rng, 12, 2), 3, 14)) : 15,
      ureaMmolL: round(clamp(normal(rng, 5.5 + 6 * ill + 2 * older, 2.5), 1.5, 40), 1),
      crpMgL: Math.round(clamp(normal(rng, 8 + 110 * ill, 35), 0.5, 400)),
    };
  }

  return { next };
}
export type PatientGenerator = ReturnType<typeof createPatientGenerator>;

export function cardioArgs(p: Patient): CardioArgs {
  const { sex, age, totalCholesterol, hdlCholesterol, systolicBloodPressure } = p;
  const { bloodPressureTreated, smoker, diabetes } = p;
  return {
    sex,
    age,
    totalCholesterol,
    hdlCholesterol,
    systolicBloodPressure,
    bloodPressureTreated,
    smoker,
    diabetes,
  };
}

export function covidArgs(p: Patient): CovidArgs {
  const { sex, age, comorbidities, respiratoryRate, oxygenSaturation, glasgowComaScale, ureaMmolL, crpMgL } =
    p;
  return { sex, age, comorbidities, respiratoryRate, oxygenSaturation, glasgowComaScale, ureaMmolL, crpMgL };
}
