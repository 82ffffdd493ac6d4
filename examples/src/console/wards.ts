// The hospital's wards and the simulated patients on them, as the tablet lists them. Patients are
// pseudonymous (ward-number IDs); their records come from the seeded patient generator.
import type { PatientRecord } from '../patients.ts';
import { HttpProblem } from './server.ts';

export interface Patient {
  id: string;
  ward: string;
  label: string;
  record: PatientRecord;
}

export interface Ward {
  id: string;
  name: string;
  patients: Patient[];
}

export const WARDS = [
  { id: 'ward-3', name: 'Ward 3 — Internal medicine' },
  { id: 'ward-7', name: 'Ward 7 — Cardiology' },
  { id: 'icu', name: 'ICU — Respiratory' },
];

export function createWards(generate: () => PatientRecord, perWard = 4) {
  const wards: Ward[] = WARDS.map((w) => ({ ...w, patients: [] }));
  const add = (wardId: string): Patient => {
    const ward = wards.find((w) => w.id === wardId);
    if (!ward) throw new HttpProblem(404, 'Not Found', `no ward ${wardId}`);
    const record = generate();
    const id = `${ward.id.toUpperCase()}-${String(ward.patients.length + 1).padStart(3, '0')}`;
    const p = { id, ward: ward.id, label: `${id} (${record.sex}, ${record.age})`, record };
    ward.patients.push(p);
    return p;
  };
  for (const w of wards) for (let i = 0; i < perWard; i++) add(w.id);
  const find = (wardId: string, patientId: string): Patient => {
    const p = wards.find((w) => w.id === wardId)?.patients.find((x) => x.id === patientId);
    if (!p) throw new HttpProblem(404, 'Not Found', `no patient ${patientId} on ${wardId}`);
    return p;
  };
  return { list: () => wards, add, find };
}
