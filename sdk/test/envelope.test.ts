import { hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  checkHeader,
  deriveKey,
  deriveKeyPair,
  type Envelope,
  EnvelopeError,
  type EnvelopeHeader,
  type Expectation,
  headerBytes,
  open,
  parseEnvelope,
  type RejectReason,
  responseHeader,
  seal,
} from '../src/envelope.ts';

// Our own vectors. The HKDF output and the ciphertext were cross-checked once with an independent
// implementation (Python: hmac/hashlib for RFC 5869, `cryptography`'s AESGCM), not only with this code.
const VECTOR = {
  qkdKey: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  header: {
    v: 1,
    keyId: 'bc490419-7d60-487f-adc1-4ddcc177c139',
    seq: 7,
    contextId: '0123456789abcdef0123456789abcdef',
    action: 'mecqkd-cardio-0123456789ab',
    clientSaeId: 'SAE_CLIENT',
    direction: 'request',
  } satisfies EnvelopeHeader,
  payload: { age: 61, sex: 'female' },
  iv: 'a0a1a2a3a4a5a6a7a8a9aaab',
  requestKey: '71eee8b206493bc29596196b7a9c27e01412a1efddd7c74dde30b03f9976367a',
  responseKey: '506ac9f93c003d147621e5c1e7d80958e545b741d2774a88c8a5a6c9d8b2472b',
  ct: 'w+6VWFDlZCVlmQ+qBpF7s0PrlN7jK7wAvw==',
  tag: 'R2nLntI9M9ZPmlyN2Tmkvg==',
};

const qkdKey = Buffer.from(VECTOR.qkdKey, 'hex');
const header = VECTOR.header;
const asRequest: Expectation = { direction: 'request', invocationsPerKey: 10 };

/** What the wrapper does with an untrusted value: parse, check, derive, open. */
function receive(value: unknown, key: Buffer, want: Expectation): unknown {
  const e = parseEnvelope(value);
  checkHeader(e, want);
  return open(deriveKey(key, e), e);
}

function rejection(f: () => unknown): EnvelopeError {
  try {
    f();
  } catch (err) {
    if (err instanceof EnvelopeError) return err;
    throw err;
  }
  throw new Error('expected the envelope to be rejected');
}

function expectRejected(f: () => unknown, reason: RejectReason): void {
  const err = rejection(f);
  expect(err.reason, err.message).to.equal(reason);
}

describe('envelope (AES-256-GCM, HKDF-SHA-256 per key, sequence and direction)', () => {
  it('matches the committed test vector: derived keys, ciphertext and tag', () => {
    expect(deriveKey(qkdKey, header).toString('hex')).to.equal(VECTOR.requestKey);
    expect(deriveKey(qkdKey, responseHeader(header)).toString('hex')).to.equal(VECTOR.responseKey);
    const pair = deriveKeyPair(qkdKey, header);
    expect([pair.request.toString('hex'), pair.response.toString('hex')]).to.deep.equal([
      VECTOR.requestKey,
      VECTOR.responseKey,
    ]);
    const e = seal(deriveKey(qkdKey, header), header, VECTOR.payload, Buffer.from(VECTOR.iv, 'hex'));
    expect(e).to.deep.equal({
      ...header,
      iv: Buffer.from(VECTOR.iv, 'hex').toString('base64'),
      ct: VECTOR.ct,
      tag: VECTOR.tag,
    });
    expect(receive(JSON.parse(JSON.stringify(e)), qkdKey, asRequest)).to.deep.equal(VECTOR.payload);
  });

  it('derives exactly what RFC 5869 HKDF-SHA-256 (node:crypto hkdfSync) gives, for any key and header', () => {
    for (let i = 0; i < 20; i++) {
      const key = randomBytes(16 + i);
      const h = { ...header, seq: i, keyId: randomUUID() };
      const info = headerBytes(h);
      const salt = 'mecqkd secure invocation envelope v1';
      expect(deriveKey(key, h).toString('hex')).to.equal(
        Buffer.from(hkdfSync('sha256', key, salt, info, 32)).toString('hex'),
      );
    }
  });

  it('uses a fresh random 96-bit IV for every envelope', () => {
    const k = deriveKey(qkdKey, header);
    const ivs = new Set(Array.from({ length: 50 }, () => seal(k, header, {}).iv));
    expect(ivs.size).to.equal(50);
    expect(Buffer.from([...ivs][0]!, 'base64')).to.have.length(12);
  });

  it('derives a different key for every sequence number, direction, key ID, context and action', () => {
    const variants: EnvelopeHeader[] = [
      header,
      { ...header, seq: 8 },
      responseHeader(header),
      { ...header, keyId: '00000000-0000-4000-8000-000000000000' },
      { ...header, contextId: 'f'.repeat(32) },
      { ...header, action: 'mecqkd-covid-0123456789ab' },
      { ...header, clientSaeId: 'SAE_OTHER' },
    ];
    const keys = new Set(variants.map((h) => deriveKey(qkdKey, h).toString('hex')));
    expect(keys.size).to.equal(variants.length);
  });

  describe('rejects, with a reason', () => {
    const sealed = () => seal(deriveKey(qkdKey, header), header, VECTOR.payload);

    // Changing any header field changes the derived key and the AAD: the tag cannot verify.
    const tampered: [keyof Envelope, unknown][] = [
      ['keyId', '00000000-0000-4000-8000-000000000000'],
      ['seq', 6],
      ['contextId', 'a'.repeat(32)],
      ['action', 'mecqkd-other-0123456789ab'],
      ['clientSaeId', 'SAE_MALLORY'],
    ];
    for (const [field, value] of tampered) {
      it(`a tampered ${field} (authentication-failed)`, () => {
        expectRejected(
          () => receive({ ...sealed(), [field]: value }, qkdKey, asRequest),
          'authentication-failed',
        );
      });
    }

    it('a tampered version (unsupported-version)', () => {
      expectRejected(() => receive({ ...sealed(), v: 2 }, qkdKey, asRequest), 'unsupported-version');
    });

    it('a tampered direction (wrong-direction before any key is asked for)', () => {
      expectRejected(
        () => receive({ ...sealed(), direction: 'response' }, qkdKey, asRequest),
        'wrong-direction',
      );
    });

    it('a flipped bit in the IV, the ciphertext or the tag (authentication-failed)', () => {
      for (const field of ['iv', 'ct', 'tag'] as const) {
        const e = sealed();
        const b = Buffer.from(e[field], 'base64');
        b[0] = (b[0] ?? 0) ^ 1;
        expectRejected(
          () => receive({ ...e, [field]: b.toString('base64') }, qkdKey, asRequest),
          'authentication-failed',
        );
      }
    });

    it('a wrong QKD key (authentication-failed)', () => {
      expectRejected(() => receive(sealed(), randomBytes(32), asRequest), 'authentication-failed');
    });

    it('a truncated ciphertext (authentication-failed) and a truncated tag (malformed)', () => {
      const e = sealed();
      const ct = Buffer.from(e.ct, 'base64');
      expectRejected(
        () => receive({ ...e, ct: ct.subarray(0, ct.length - 1).toString('base64') }, qkdKey, asRequest),
        'authentication-failed',
      );
      expectRejected(() => receive({ ...e, ct: '' }, qkdKey, asRequest), 'authentication-failed');
      const tag = Buffer.from(e.tag, 'base64').subarray(0, 12).toString('base64');
      expectRejected(() => receive({ ...e, tag }, qkdKey, asRequest), 'malformed');
    });

    it('a response fed back as a request, and a request passed off as a response', () => {
      const res = seal(deriveKey(qkdKey, responseHeader(header)), responseHeader(header), {
        tenYearRisk: 0.1,
      });
      expectRejected(() => receive(res, qkdKey, asRequest), 'wrong-direction');
      // relabelled as a request, it no longer verifies under the request key
      expectRejected(
        () => receive({ ...res, direction: 'request' }, qkdKey, asRequest),
        'authentication-failed',
      );
      expectRejected(
        () => receive(sealed(), qkdKey, { ...asRequest, direction: 'response' }),
        'wrong-direction',
      );
    });

    it('an envelope for another action or a response to another request (wrong-binding)', () => {
      expectRejected(
        () => receive(sealed(), qkdKey, { ...asRequest, binding: { action: 'mecqkd-covid-0123456789ab' } }),
        'wrong-binding',
      );
      const res = seal(deriveKey(qkdKey, responseHeader(header)), responseHeader(header), {});
      expectRejected(
        () => receive(res, qkdKey, { direction: 'response', invocationsPerKey: 10, binding: { seq: 6 } }),
        'wrong-binding',
      );
    });

    it('a sequence number past N (sequence-exhausted)', () => {
      expectRejected(
        () => receive(sealed(), qkdKey, { ...asRequest, invocationsPerKey: 7 }),
        'sequence-exhausted',
      );
      expect(receive(sealed(), qkdKey, { ...asRequest, invocationsPerKey: 8 })).to.deep.equal(VECTOR.payload);
    });

    it('shapes that are not envelopes (malformed), naming the field', () => {
      const e = sealed();
      const cases: unknown[] = [
        null,
        'x',
        { ...e, keyId: 'not-a-uuid' },
        { ...e, seq: -1 },
        { ...e, seq: 1.5 },
        { ...e, contextId: 'short' },
        { ...e, iv: 'AAAA' },
        { ...e, ct: 'not base64!' },
        // what a lenient decoder would skip or repair: a line break, URL-safe letters, no padding
        { ...e, ct: `${e.ct.slice(0, 8)}\n${e.ct.slice(8)}` },
        { ...e, iv: e.iv.replace(/[A-Za-z0-9]/, '-') },
        { ...e, tag: e.tag.replace(/=+$/, '') },
        { ...e, action: undefined },
      ];
      for (const c of cases) expectRejected(() => receive(c, qkdKey, asRequest), 'malformed');
      expect(rejection(() => parseEnvelope({ ...e, iv: 'AAAA' })).message).to.match(/iv must be 12 bytes/);
    });

    it('error messages carry neither key material nor plaintext', () => {
      const e = seal(deriveKey(qkdKey, header), header, { secret: 'patient-42-cholesterol' });
      const err = rejection(() => receive({ ...e, seq: 6 }, qkdKey, asRequest));
      expect(err.message).to.not.include('patient-42');
      expect(err.message).to.not.include(VECTOR.qkdKey);
      expect(err.message).to.not.include(deriveKey(qkdKey, header).toString('base64'));
    });
  });
});
