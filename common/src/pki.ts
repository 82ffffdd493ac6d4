// Development PKI: a CA and the server/client certificates that mutual TLS between mecqkd parts needs
// (kube-apiserver, KMEs, SAEs, whisk-sim). Built on @peculiar/x509 so no ASN.1 is written by hand.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type Crypto = webcrypto.Crypto;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface Pem {
  cert: string;
  key: string;
}

export interface CertificateAuthority extends Pem {
  subject: string;
  keys: CryptoKeyPair;
}

export interface LeafOptions {
  /** Subject common name; for SAE and KME client certificates this is the SAE/KME ID. */
  commonName: string;
  /** Organisations (Kubernetes reads them as groups). */
  organizations?: string[];
  /** DNS names and IP addresses for server certificates. */
  dnsNames?: string[];
  ipAddresses?: string[];
  server?: boolean;
  client?: boolean;
  validDays?: number;
}

function distinguishedName(commonName: string, organizations: string[] = []): string {
  const esc = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return [`CN=${esc(commonName)}`, ...organizations.map((o) => `O=${esc(o)}`)].join(', ');
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive INTEGER
  return bytes.toString('hex');
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** A self-signed certificate authority (ECDSA P-256). */
export async function createCa(commonName: string, validDays = 3650): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: distinguishedName(commonName, ['mecqkd']),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validDays * DAY_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    cert: cert.toString('pem'),
    key: await privateKeyPem(keys.privateKey),
    subject: cert.subject,
    keys,
  };
}

/** A leaf certificate signed by `ca`, for a TLS server, a TLS client, or both. */
export async function issueCertificate(ca: CertificateAuthority, opts: LeafOptions): Promise<Pem> {
  const keys = await generateKeys();
  const now = Date.now();
  const usages: string[] = [];
  if (opts.server) usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (opts.client) usages.push(x509.ExtendedKeyUsage.clientAuth);
  const altNames: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: distinguishedName(opts.commonName, opts.organizations),
    issuer: ca.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (opts.validDays ?? 365) * DAY_MS),
    signingKey: ca.keys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

/** A bare ECDSA P-256 key pair in PEM (PKCS#8 and SPKI), e.g. a service-account signing key. */
export async function createKeyPairPem(): Promise<{ privateKey: string; publicKey: string }> {
  const keys = await generateKeys();
  const spki = await webcrypto.subtle.exportKey('spki', keys.publicKey);
  return {
    privateKey: await privateKeyPem(keys.privateKey),
    publicKey: x509.PemConverter.encode(spki, 'PUBLIC KEY'),
  };
}

/** Loads a CA written earlier (PEM) so it can sign more certificates. */
export async function loadCa(pem: Pem): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(pem.cert);
  const der = x509.PemConverter.decodeFirst(pem.key);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
  const publicKey = await cert.publicKey.export(ALG, ['verify'], webcrypto as unknown as Crypto);
  return { ...pem, subject: cert.subject, keys: { privateKey, publicKey } };
}
