// Simulated patients for the two hospital models: a seeded generator (the same seed gives the same
// patients) drawing each measurement from a plausible adult in-patient range, and the arguments each
// model takes from a record. Not clinical data; the ranges only keep the models in their domain.

export interface PatientRecord {
  sex: 'female' | 'male';
  age: number;
  /** Framingham CVD (mg/dL, mmHg). */
  totalCholesterol: number;
  hdlCholesterol: number;
  systolicBloodPressure: number;
  bloodPressureTreated: boolean;
  smoker: boolean;
  diabetes: boolean;
  /** ISARIC 4C (count, /min, %, 3–15, mmol/L, mg/L). */
  comorbidities: number;
  respiratoryRate: number;
  oxygenSaturation: number;
  glasgowComaScale: number;
  ureaMmolL: number;
  crpMgL: number;
}

/** mulberry32: small, fast, and good enough for simulated data (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function patientGenerator(seed = 1): () => PatientRecord {
  const rnd = seededRandom(seed);
  // Box–Muller: a normal draw clamped to the range, rounded to `step`
  const normal = (mean: number, sd: number, min: number, max: number, step = 1) => {
    const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const v = Math.min(max, Math.max(min, mean + sd * z));
    return Number((Math.round(v / step) * step).toFixed(step < 1 ? 1 : 0));
  };
  const chance = (p: number) => rnd() < p;
  return () => {
    const age = normal(62, 12, 30, 74);
    const older = age >= 60;
    const covidSeverity = rnd();
    return {
      sex: chance(0.5) ? 'female' : 'male',
      age,
      totalCholesterol: normal(200, 35, 120, 320),
      hdlCholesterol: normal(52, 14, 25, 100),
      systolicBloodPressure: normal(older ? 138 : 126, 17, 95, 200),
      bloodPressureTreated: chance(older ? 0.45 : 0.2),
      smoker: chance(0.18),
      diabetes: chance(older ? 0.18 : 0.09),
      comorbidities: Math.min(4, Math.floor(-Math.log(1 - rnd()) * (older ? 1.5 : 0.8))),
      respiratoryRate: normal(18 + 8 * covidSeverity, 3, 12, 40),
      oxygenSaturation: normal(97 - 8 * covidSeverity, 2, 78, 100),
      glasgowComaScale: chance(0.1 + 0.2 * covidSeverity) ? normal(12, 2, 3, 14) : 15,
      ureaMmolL: normal(5.5 + 6 * covidSeverity, 2.5, 2, 30, 0.1),
      crpMgL: normal(20 + 140 * covidSeverity, 30, 1, 400),
    };
  };
}

/** The Framingham model's arguments (examples/actions/cardio-risk.js). */
export const cardioArgs = (p: PatientRecord) => ({
  sex: p.sex,
  age: p.age,
  totalCholesterol: p.totalCholesterol,
  hdlCholesterol: p.hdlCholesterol,
  systolicBloodPressure: p.systolicBloodPressure,
  bloodPressureTreated: p.bloodPressureTreated,
  smoker: p.smoker,
  diabetes: p.diabetes,
});

/** The ISARIC 4C model's arguments (examples/actions/covid-risk.js). */
export const covidArgs = (p: PatientRecord) => ({
  age: p.age,
  sex: p.sex,
  comorbidities: p.comorbidities,
  respiratoryRate: p.respiratoryRate,
  oxygenSaturation: p.oxygenSaturation,
  glasgowComaScale: p.glasgowComaScale,
  ureaMmolL: p.ureaMmolL,
  crpMgL: p.crpMgL,
});
