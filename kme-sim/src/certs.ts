// Development PKI for a kme-sim topology: one CA, a certificate per KME (server for its SAEs and neighbours,
// client towards its neighbours; CN = KME ID), a client certificate per SAE (CN = SAE ID) and per admin (CN =
// an entry of a KME's `admins`).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CertificateAuthority, createCa, issueCertificate, loadCa, type Pem } from '@mecqkd/common/pki';

export interface CertRequest {
  kmes: { id: string; dnsNames?: string[]; ipAddresses?: string[] }[];
  saes: string[];
  admins?: string[];
}

export interface CertFiles {
  cert: string;
  key: string;
}

export interface WrittenCerts {
  ca: string;
  kmes: Record<string, CertFiles>;
  saes: Record<string, CertFiles>;
  admins: Record<string, CertFiles>;
}

function write(dir: string, name: string, pem: Pem): CertFiles {
  const files = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  writeFileSync(files.cert, pem.cert);
  writeFileSync(files.key, pem.key, { mode: 0o600 });
  return files;
}

/** Reuses `ca.pem`/`ca-key.pem` in `dir` when present, so certificates can be added to an existing set. */
async function caIn(dir: string): Promise<CertificateAuthority> {
  const cert = join(dir, 'ca.pem');
  const key = join(dir, 'ca-key.pem');
  if (existsSync(cert) && existsSync(key)) {
    return loadCa({ cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') });
  }
  const ca = await createCa('mecqkd kme-sim development CA');
  write(dir, 'ca', ca);
  return ca;
}

export async function writeCerts(dir: string, req: CertRequest): Promise<WrittenCerts> {
  const admins = req.admins ?? [];
  const names = [...req.kmes.map((k) => k.id), ...req.saes, ...admins];
  if (names.includes('ca') || new Set(names).size !== names.length) {
    throw new Error(`KME, SAE and admin names must be distinct and not "ca": ${names.join(', ')}`);
  }
  mkdirSync(dir, { recursive: true });
  const ca = await caIn(dir);
  const out: WrittenCerts = { ca: join(dir, 'ca.pem'), kmes: {}, saes: {}, admins: {} };
  for (const k of req.kmes) {
    const pem = await issueCertificate(ca, {
      commonName: k.id,
      dnsNames: ['localhost', ...(k.dnsNames ?? [])],
      ipAddresses: ['127.0.0.1', ...(k.ipAddresses ?? [])],
      server: true,
      client: true,
    });
    out.kmes[k.id] = write(dir, k.id, pem);
  }
  for (const id of req.saes)
    out.saes[id] = write(dir, id, await issueCertificate(ca, { commonName: id, client: true }));
  for (const cn of admins)
    out.admins[cn] = write(dir, cn, await issueCertificate(ca, { commonName: cn, client: true }));
  return out;
}
