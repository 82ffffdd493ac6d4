import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { cardioArgs, covidArgs, createPatientGenerator, WARDS } from '../src/patients.ts';

const model = (file: string) =>
  new Function(
    `${readFileSync(join(import.meta.dirname, '..', 'actions', file), 'utf8')}; return main;`,
  )() as (p: unknown) => Record<string, unknown>;

describe('simulated patients', () => {
  const many = (seed: number, n = 500) => {
    const g = createPatientGenerator(seed);
    return Array.from({ length: n }, () => g.next());
  };

  it('are the same for the same seed and differ for another', () => {
    expect(many(7, 20)).to.deep.equal(many(7, 20));
    expect(many(7, 20)).to.not.deep.equal(many(8, 20));
  });

  it('stay within clinical ranges the models were fitted on', () => {
    for (const p of many(3)) {
      expect(p.age).to.be.within(30, 74);
      expect(p.totalCholesterol).to.be.within(100, 405);
      expect(p.hdlCholesterol).to.be.within(10, 100);
      expect(p.systolicBloodPressure).to.be.within(90, 200);
      expect(p.oxygenSaturation).to.be.within(70, 100);
      expect(p.glasgowComaScale).to.be.within(3, 15);
      expect(p.respiratoryRate).to.be.within(8, 45);
      expect(WARDS).to.include(p.ward);
    }
  });

  it('are sicker in the ICU than in cardiology', () => {
    const g = createPatientGenerator(11);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const icu = Array.from({ length: 300 }, () => g.next('icu'));
    const cardio = Array.from({ length: 300 }, () => g.next('cardiology'));
    expect(mean(icu.map((p) => p.crpMgL))).to.be.greaterThan(mean(cardio.map((p) => p.crpMgL)) + 50);
    expect(mean(icu.map((p) => p.oxygenSaturation))).to.be.lessThan(
      mean(cardio.map((p) => p.oxygenSaturation)),
    );
    expect(icu[0]!.id).to.equal('ICU-0001');
    expect(icu[1]!.id).to.equal('ICU-0002');
  });

  it('give both models valid arguments, spanning their risk groups', () => {
    const cardio = model('cardio-risk.js');
    const covid = model('covid-risk.js');
    const groups = new Set<unknown>();
    for (const p of many(5)) {
      const r = cardio(cardioArgs(p));
      expect(r, JSON.stringify(p)).to.not.have.property('error');
      expect(r.tenYearRisk).to.be.within(0, 1);
      const c = covid(covidArgs(p));
      expect(c, JSON.stringify(p)).to.not.have.property('error');
      groups.add(c.riskGroup);
    }
    expect([...groups]).to.have.members(['low', 'intermediate', 'high', 'very high']);
  });
});
