// The hospital's wards and the simulated patients on them, as the tablet lists them: pseudonymous
// IDs, records from the seeded patient generator (examples/src/patients.ts).
import { createPatientGenerator, type Patient, WARDS, type Ward as WardId } from '../patients.ts';
import { HttpProblem } from './server.ts';

const NAMES: Record<WardId, string> = {
  cardiology: 'Cardiology',
  'internal-medicine': 'Internal medicine',
  'covid-ward': 'COVID-19 ward',
  icu: 'Intensive care',
};

export interface ListedPatient {
  id: string;
  ward: WardId;
  label: string;
  record: Patient;
}

export interface Ward {
  id: WardId;
  name: string;
  patients: ListedPatient[];
}

export function createWards(seed = 1, perWard = 4) {
  const generator = createPatientGenerator(seed);
  const wards: Ward[] = WARDS.map((id) => ({ id, name: NAMES[id], patients: [] }));
  const ward = (id: string): Ward => {
    const w = wards.find((x) => x.id === id);
    if (!w) throw new HttpProblem(404, 'Not Found', `no ward ${id}`);
    return w;
  };
  const add = (wardId: string): ListedPatient => {
    const w = ward(wardId);
    const record = generator.next(w.id);
    const p = { id: record.id, ward: w.id, label: `${record.id} (${record.sex}, ${record.age})`, record };
    w.patients.push(p);
    return p;
  };
  for (const w of wards) for (let i = 0; i < perWard; i++) add(w.id);
  const find = (wardId: string, patientId: string): ListedPatient => {
    const p = ward(wardId).patients.find((x) => x.id === patientId);
    if (!p) throw new HttpProblem(404, 'Not Found', `no patient ${patientId} on ${wardId}`);
    return p;
  };
  return { list: () => wards, add, find };
}
export type Wards = ReturnType<typeof createWards>;
