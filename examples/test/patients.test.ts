import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { cardioArgs, covidArgs, patientGenerator } from '../src/patients.ts';

const model = (file: string) =>
  new Function(
    `${readFileSync(join(import.meta.dirname, '..', 'actions', file), 'utf8')}; return main;`,
  )() as (p: Record<string, unknown>) => Record<string, unknown>;

describe('simulated patients', () => {
  it('are the same for the same seed and differ for another', () => {
    const a = patientGenerator(7);
    const b = patientGenerator(7);
    const c = patientGenerator(8);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).to.deep.equal(first);
    expect([c(), c(), c()]).to.not.deep.equal(first);
  });

  it('stay in the ranges the two models are defined on, and both models score them', () => {
    const next = patientGenerator(42);
    const cardio = model('cardio-risk.js');
    const covid = model('covid-risk.js');
    const groups = new Set<unknown>();
    for (let i = 0; i < 500; i++) {
      const p = next();
      expect(p.age).to.be.within(30, 74); // Framingham's derivation cohort
      expect(p.totalCholesterol).to.be.within(120, 320);
      expect(p.hdlCholesterol).to.be.within(25, 100);
      expect(p.systolicBloodPressure).to.be.within(95, 200);
      expect(p.oxygenSaturation).to.be.within(78, 100);
      expect(p.glasgowComaScale).to.be.within(3, 15);
      expect(Number.isInteger(p.glasgowComaScale)).to.equal(true);
      const r = cardio(cardioArgs(p));
      expect(r, JSON.stringify(p)).to.not.have.property('error');
      expect(r.tenYearRisk).to.be.within(0, 1);
      const s = covid(covidArgs(p));
      expect(s, JSON.stringify(p)).to.not.have.property('error');
      groups.add(s.riskGroup);
    }
    // a ward has patients of every 4C risk group, not one kind
    expect([...groups].sort()).to.deep.equal(['high', 'intermediate', 'low', 'very high']);
  });
});
