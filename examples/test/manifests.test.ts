import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedControlPlane } from '@mecqkd/localenv/shared';
import { expect } from 'chai';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');

describe('example manifests', () => {
  it('carry the action code of examples/actions unchanged in the hospital-actions ConfigMap', () => {
    const cm = parse(readFileSync(join(root, 'manifests', 'actions-configmap.yaml'), 'utf8'));
    for (const file of ['cardio-risk.js', 'covid-risk.js']) {
      expect(cm.data[file], file).to.equal(readFileSync(join(root, 'actions', file), 'utf8'));
    }
  });
});

describe('example manifests on the apiserver', function () {
  this.timeout(120_000);

  it('are taken as they are by kubectl apply (server-side dry run, with the CRD schemas and CEL rules)', async () => {
    const cp = await sharedControlPlane();
    const ns = `examples-${Date.now().toString(36)}`;
    expect((await cp.kubectl(['create', 'namespace', ns])).code).to.equal(0);
    const files = readdirSync(join(root, 'manifests')).filter((f) => f.endsWith('.yaml'));
    const r = await cp.kubectl([
      '-n',
      ns,
      'apply',
      '--server-side',
      '--dry-run=server',
      ...files.flatMap((f) => ['-f', join(root, 'manifests', f)]),
    ]);
    expect(r.code, r.stderr).to.equal(0);
    for (const kind of ['mechost', 'qkdlink', 'mecapp', 'appcontext', 'configmap', 'secret'])
      expect(r.stdout, kind).to.match(
        new RegExp(`^${kind}[./]\\S+ serverside-applied \\(server dry run\\)$`, 'm'),
      );
  });
});

describe('hospital actions', () => {
  const load = (file: string) =>
    new Function(`${readFileSync(join(root, 'actions', file), 'utf8')}; return main;`)() as (
      p: Record<string, unknown>,
    ) => Record<string, unknown>;

  it('computes the Framingham ten-year CVD risk of the published example patient', () => {
    // D'Agostino et al. 2008, worked example: 61-year-old male smoker, TC 180, HDL 47, SBP 124 untreated.
    const risk = load('cardio-risk.js')({
      sex: 'male',
      age: 61,
      totalCholesterol: 180,
      hdlCholesterol: 47,
      systolicBloodPressure: 124,
      bloodPressureTreated: false,
      smoker: true,
      diabetes: false,
    });
    expect(risk.tenYearRisk).to.be.closeTo(0.234, 0.01);
  });

  it('returns an OpenWhisk error result for bad input', () => {
    expect(load('cardio-risk.js')({ sex: 'x' })).to.have.property('error');
    expect(load('covid-risk.js')({ age: -1 })).to.have.property('error');
  });

  it('scores the ISARIC 4C mortality score by its published bands', () => {
    const r = load('covid-risk.js')({
      age: 72,
      sex: 'male',
      comorbidities: 2,
      respiratoryRate: 24,
      oxygenSaturation: 90,
      glasgowComaScale: 15,
      ureaMmolL: 8,
      crpMgL: 120,
    });
    expect(r).to.include({ score: 15, riskGroup: 'very high' });
    const low = load('covid-risk.js')({
      age: 30,
      sex: 'female',
      comorbidities: 0,
      respiratoryRate: 16,
      oxygenSaturation: 98,
      glasgowComaScale: 15,
      ureaMmolL: 5,
      crpMgL: 10,
    });
    expect(low).to.include({ score: 0, riskGroup: 'low' });
  });
});
