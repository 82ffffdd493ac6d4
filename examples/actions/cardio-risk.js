// Ten-year cardiovascular risk (Framingham general CVD model, D'Agostino et al., Circulation 2008).
// An OpenWhisk nodejs action: main(params) returns an object.
const MODEL = {
  female: {
    age: 2.32888,
    tc: 1.20904,
    hdl: -0.70833,
    sbp: 2.76157,
    sbpTreated: 2.82263,
    smoker: 0.52873,
    diabetes: 0.69154,
    s0: 0.95012,
    mean: 26.1931,
  },
  male: {
    age: 3.06117,
    tc: 1.1237,
    hdl: -0.93263,
    sbp: 1.93303,
    sbpTreated: 1.99881,
    smoker: 0.65451,
    diabetes: 0.57367,
    s0: 0.88936,
    mean: 23.9802,
  },
};

function main(params) {
  const m = MODEL[params.sex];
  if (!m) return { error: 'sex must be "female" or "male"' };
  for (const f of ['age', 'totalCholesterol', 'hdlCholesterol', 'systolicBloodPressure']) {
    if (!(typeof params[f] === 'number' && params[f] > 0)) return { error: `${f} must be a positive number` };
  }
  const sum =
    m.age * Math.log(params.age) +
    m.tc * Math.log(params.totalCholesterol) +
    m.hdl * Math.log(params.hdlCholesterol) +
    (params.bloodPressureTreated ? m.sbpTreated : m.sbp) * Math.log(params.systolicBloodPressure) +
    (params.smoker ? m.smoker : 0) +
    (params.diabetes ? m.diabetes : 0);
  const risk = 1 - m.s0 ** Math.exp(sum - m.mean);
  return { tenYearRisk: Math.round(risk * 10000) / 10000, model: 'framingham-cvd-2008' };
}
