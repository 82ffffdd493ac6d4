// In-hospital mortality risk of COVID-19 patients: the ISARIC 4C Mortality Score (Knight et al.,
// BMJ 2020;370:m3339). An OpenWhisk nodejs action: main(params) returns an object.
const bands = (value, cuts) => cuts.filter(([limit]) => value >= limit).reduce((_, [, points]) => points, 0);

const GROUPS = [
  { min: 15, group: 'very high', mortality: 0.615 },
  { min: 9, group: 'high', mortality: 0.314 },
  { min: 4, group: 'intermediate', mortality: 0.099 },
  { min: 0, group: 'low', mortality: 0.012 },
];

function main(p) {
  for (const f of [
    'age',
    'comorbidities',
    'respiratoryRate',
    'oxygenSaturation',
    'glasgowComaScale',
    'ureaMmolL',
    'crpMgL',
  ]) {
    if (typeof p[f] !== 'number' || p[f] < 0) return { error: `${f} must be a non-negative number` };
  }
  const score =
    bands(p.age, [
      [50, 2],
      [60, 4],
      [70, 6],
      [80, 7],
    ]) +
    (p.sex === 'male' ? 1 : 0) +
    Math.min(p.comorbidities, 2) +
    bands(p.respiratoryRate, [
      [20, 1],
      [30, 2],
    ]) +
    (p.oxygenSaturation < 92 ? 2 : 0) +
    (p.glasgowComaScale < 15 ? 2 : 0) +
    (p.ureaMmolL > 14 ? 3 : p.ureaMmolL >= 7 ? 1 : 0) +
    bands(p.crpMgL, [
      [50, 1],
      [100, 2],
    ]);
  const { group, mortality } = GROUPS.find((g) => score >= g.min);
  return { score, riskGroup: group, observedMortality: mortality, model: 'isaric-4c-mortality' };
}
