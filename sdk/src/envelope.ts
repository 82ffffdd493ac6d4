// The secure-invocation envelope, one module for both perimeters: the client seals arguments and
// opens results, the host's action wrapper opens arguments and seals results. Version 1:
//
//   { v: 1, keyId, seq, contextId, action, clientSaeId, direction: "request"|"response", iv, ct, tag }
//
// AES-256-GCM under a key derived by HKDF-SHA-256 from the QKD key, with the header (every field but
// iv/ct/tag) as both the HKDF info and the GCM additional data. So each (key, sequence, direction)
// has its own AES key, and no header field can be changed, nor a response passed off as a request,
// nor an envelope moved to another context, action or key, without the tag failing. Replays are the
// host SAE's business (it remembers the sequence numbers it served); sequence bounds are checked here.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

export const ENVELOPE_VERSION = 1;
const SALT = Buffer.from('mecqkd secure invocation envelope v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export type Direction = 'request' | 'response';

/** What a derived key is bound to: everything in an envelope except its nonce and ciphertext. */
export interface EnvelopeHeader {
  v: number;
  /** QKD 014 key_ID of the key the envelope's AES key is derived from. */
  keyId: string;
  /** Per-key sequence number, 0 … invocationsPerKey − 1. */
  seq: number;
  /** MEC 016 contextId. */
  contextId: string;
  /** OpenWhisk action name (no namespace). */
  action: string;
  /** The client (master) SAE that requested the key with enc_keys. */
  clientSaeId: string;
  direction: Direction;
}

export interface Envelope extends EnvelopeHeader {
  /** base64 of 12 random bytes. */
  iv: string;
  /** base64 ciphertext and GCM tag. */
  ct: string;
  tag: string;
}

export type RejectReason =
  | 'malformed'
  | 'unsupported-version'
  | 'wrong-direction'
  | 'wrong-binding'
  | 'sequence-exhausted'
  | 'replay'
  | 'unknown-key'
  | 'key-expired'
  | 'authentication-failed';

/** Why an envelope was refused. The message names fields, never key material or plaintext. */
export class EnvelopeError extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(`envelope rejected (${reason}): ${message}`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The exact bytes both HKDF info and GCM AAD are made of: a JSON array in a fixed order. */
export function headerBytes(h: EnvelopeHeader): Buffer {
  return Buffer.from(
    JSON.stringify([
      'mecqkd-envelope',
      h.v,
      h.keyId,
      h.seq,
      h.contextId,
      h.action,
      h.clientSaeId,
      h.direction,
    ]),
  );
}

// HKDF-SHA-256 (RFC 5869) written out as its two HMAC steps: node's hkdfSync costs about five HMACs
// (a KeyObject and a job per call), and an invocation derives two keys from one QKD key, so one
// extract serves both. With L = 32 bytes (one SHA-256 block) expand is the single T(1) = HMAC(PRK, info‖1).
const BLOCK_ONE = Buffer.from([1]);

function extract(qkdKey: Buffer): Buffer {
  if (qkdKey.length < 16) throw new Error(`a QKD key of ${qkdKey.length * 8} bits is too short (min 128)`);
  return createHmac('sha256', SALT).update(qkdKey).digest();
}

function expand(prk: Buffer, h: EnvelopeHeader): Buffer {
  return createHmac('sha256', prk).update(headerBytes(h)).update(BLOCK_ONE).digest();
}

/** The AES-256 key of one (QKD key, header): what the host SAE hands out, never the QKD key. */
export function deriveKey(qkdKey: Buffer, h: EnvelopeHeader): Buffer {
  const prk = extract(qkdKey);
  try {
    return expand(prk, h);
  } finally {
    prk.fill(0);
  }
}

/** Both keys of one invocation: `deriveKey` for the request header and for its response header. */
export function deriveKeyPair(
  qkdKey: Buffer,
  request: EnvelopeHeader,
): { request: Buffer; response: Buffer } {
  const prk = extract(qkdKey);
  try {
    return { request: expand(prk, request), response: expand(prk, responseHeader(request)) };
  } finally {
    prk.fill(0);
  }
}

/** The header an answer to `request` carries: same binding, other direction. */
export function responseHeader(request: EnvelopeHeader): EnvelopeHeader {
  return { ...headerOf(request), direction: 'response' };
}

export function headerOf(e: EnvelopeHeader): EnvelopeHeader {
  const { v, keyId, seq, contextId, action, clientSaeId, direction } = e;
  return { v, keyId, seq, contextId, action, clientSaeId, direction };
}

/** Encrypts `payload` (JSON) under `aesKey` for `header`; `iv` only for test vectors. */
export function seal(
  aesKey: Buffer,
  header: EnvelopeHeader,
  payload: unknown,
  iv = randomBytes(IV_BYTES),
): Envelope {
  if (aesKey.length !== KEY_BYTES) throw new Error('the envelope key must be 256 bits');
  if (iv.length !== IV_BYTES) throw new Error('the IV must be 96 bits');
  const cipher = createCipheriv('aes-256-gcm', aesKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(headerBytes(header));
  const ct = Buffer.concat([cipher.update(JSON.stringify(payload ?? null), 'utf8'), cipher.final()]);
  return {
    ...headerOf(header),
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

// Canonical standard base64 is exactly what re-encodes to itself (Buffer.from skips stray
// characters); one decode and encode of a 1 KiB ciphertext costs less than a regex over it.
function bytes(value: unknown, field: string, length?: number): Buffer {
  const b = typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
  if (!b || b.toString('base64') !== value)
    throw new EnvelopeError('malformed', `${field} must be standard base64`);
  if (length !== undefined && b.length !== length)
    throw new EnvelopeError('malformed', `${field} must be ${length} bytes, got ${b.length}`);
  return b;
}

/** Checks the shape of an untrusted value; every failure is `malformed` or `unsupported-version`. */
export function parseEnvelope(value: unknown): Envelope {
  if (!isRecord(value)) throw new EnvelopeError('malformed', 'an envelope must be a JSON object');
  if (value.v !== ENVELOPE_VERSION)
    throw new EnvelopeError(
      'unsupported-version',
      `version ${JSON.stringify(value.v)} is not ${ENVELOPE_VERSION}`,
    );
  const str = (field: string, max: number, pattern?: RegExp) => {
    const v = value[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > max || (pattern && !pattern.test(v)))
      throw new EnvelopeError('malformed', `${field} is missing or invalid`);
    return v;
  };
  const keyId = str('keyId', 36, UUID);
  const contextId = str('contextId', 32, /^[0-9a-f]{32}$/);
  const action = str('action', 256);
  const clientSaeId = str('clientSaeId', 256);
  const seq = value.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
    throw new EnvelopeError('malformed', 'seq must be a non-negative integer');
  const direction = value.direction;
  if (direction !== 'request' && direction !== 'response')
    throw new EnvelopeError('malformed', 'direction must be "request" or "response"');
  bytes(value.iv, 'iv', IV_BYTES);
  bytes(value.ct, 'ct');
  bytes(value.tag, 'tag', TAG_BYTES);
  return {
    v: ENVELOPE_VERSION,
    keyId,
    seq,
    contextId,
    action,
    clientSaeId,
    direction,
    iv: value.iv as string,
    ct: value.ct as string,
    tag: value.tag as string,
  };
}

export interface Expectation {
  direction: Direction;
  /** Highest sequence + 1 a key may carry (the MecApp's invocationsPerKey). */
  invocationsPerKey: number;
  /** Header fields that must match, e.g. the wrapper's own action, or the request a response answers. */
  binding?: Partial<Omit<EnvelopeHeader, 'direction' | 'v'>>;
}

/** Checks what can be checked without a key: direction, binding, sequence bound. */
export function checkHeader(e: EnvelopeHeader, want: Expectation): void {
  if (e.direction !== want.direction)
    throw new EnvelopeError(
      'wrong-direction',
      `a ${e.direction} envelope where a ${want.direction} was expected`,
    );
  for (const [field, expected] of Object.entries(want.binding ?? {})) {
    if (expected !== undefined && e[field as keyof EnvelopeHeader] !== expected)
      throw new EnvelopeError('wrong-binding', `${field} does not match`);
  }
  if (e.seq >= want.invocationsPerKey)
    throw new EnvelopeError(
      'sequence-exhausted',
      `sequence ${e.seq} is past the key's ${want.invocationsPerKey} invocations`,
    );
}

/** Decrypts a parsed envelope with the AES key derived for its header. */
export function open(aesKey: Buffer, e: Envelope): unknown {
  const decipher = createDecipheriv('aes-256-gcm', aesKey, Buffer.from(e.iv, 'base64'), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(headerBytes(e));
  decipher.setAuthTag(Buffer.from(e.tag, 'base64'));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(Buffer.from(e.ct, 'base64')), decipher.final()]);
  } catch {
    throw new EnvelopeError(
      'authentication-failed',
      'the tag does not verify: ciphertext or header altered, or a key other than the sender used',
    );
  }
  try {
    return JSON.parse(plain.toString('utf8'));
  } catch {
    throw new EnvelopeError('malformed', 'the decrypted payload is not JSON');
  }
}
