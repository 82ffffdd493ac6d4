// The wrapper ↔ host SAE channel against a real host SAE and real kme-sim KMEs over mutual TLS: the
// wrapper secret gates the connection, only ALPN mecqkd-sae/1 clients get one, keys derive once per
// sequence number, and the metrics count keys fetched, invocations per key and refusals by reason.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createCa, issueCertificate } from '@mecqkd/common/pki';
import { createQkd014Client } from '@mecqkd/kme-sim/client';
import { startTestbed, type Testbed } from '@mecqkd/kme-sim/testbed';
import { sharedRedis } from '@mecqkd/localenv/shared';
import { deriveKey, ENVELOPE_VERSION, type EnvelopeHeader } from '@mecqkd/sdk/envelope';
import { expect } from 'chai';
import { openChannel, type SaeChannel, WrapperError } from '../src/channel-client.ts';
import { hostSaeConfigSchema } from '../src/config.ts';
import { type RunningHostSae, startHostSae } from '../src/server.ts';

/** N = 2, and a declared demand the few keys here stay well within. */
const DEMAND = { invocationsPerKey: 2, expectedInvocationsPerSecond: 10 };

describe('host SAE channel (real host SAE, kme-sim over mTLS)', function () {
  this.timeout(60_000);
  let dir: string;
  let kmes: Testbed;
  let sae: RunningHostSae;
  let ca: string;
  let port: number;
  const secret = randomBytes(32).toString('base64url');
  const channels: SaeChannel[] = [];
  const channel = (s = secret, onRelease?: (keyId: string) => number[]) => {
    const c = openChannel({ host: '127.0.0.1', port, ca, secret: s, ...(onRelease ? { onRelease } : {}) });
    channels.push(c);
    return c;
  };
  const metric = async (line: RegExp) => {
    const text = await (await fetch(`${sae.opsUrl}/metrics`)).text();
    return Number(text.match(line)?.[1] ?? Number.NaN);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mecqkd-sae-channel-'));
    kmes = await startTestbed(
      {
        kmes: [
          { id: 'KME_C', saes: ['SAE_C'], process: 'kmes' },
          { id: 'KME_H', saes: ['SAE_H'], process: 'kmes' },
        ],
        links: [{ kmes: ['KME_C', 'KME_H'], skrBitsPerSecond: 1_000_000, capacityBits: 1_000_000 }],
      },
      join(dir, 'kmes'),
    );
    const authority = await createCa('channel test CA');
    ca = authority.cert;
    const pem = await issueCertificate(authority, {
      commonName: 'SAE_H',
      ipAddresses: ['127.0.0.1'],
      server: true,
    });
    writeFileSync(join(dir, 'cert.pem'), pem.cert);
    writeFileSync(join(dir, 'key.pem'), pem.key);
    writeFileSync(join(dir, 'secret'), secret);
    const h = kmes.saes.SAE_H!;
    sae = await startHostSae(
      hostSaeConfigSchema.parse({
        saeId: 'SAE_H',
        port: 0,
        opsPort: 0,
        tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') },
        kme: { url: h.url, ca: h.ca, cert: h.cert, key: h.key },
        wrapperSecretFile: join(dir, 'secret'),
        redis: { url: (await sharedRedis()).url },
        logLevel: 'silent',
      }),
    );
    port = Number(new URL(sae.url).port);
  });
  after(async () => {
    for (const c of channels) c.close();
    await sae?.close();
    await kmes?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function qkdKey(): Promise<{ keyId: string; key: Buffer }> {
    const c = kmes.saes.SAE_C!;
    const kme = createQkd014Client({
      url: c.url,
      ca: readFileSync(c.ca),
      cert: readFileSync(c.cert),
      key: readFileSync(c.key),
    });
    try {
      const got = await kme.encKeys('SAE_H', { number: 1 });
      return { keyId: got.keys[0]!.key_ID, key: Buffer.from(got.keys[0]!.key, 'base64') };
    } finally {
      kme.close();
    }
  }
  const header = (keyId: string, seq: number): EnvelopeHeader => ({
    v: ENVELOPE_VERSION,
    keyId,
    seq,
    contextId: 'c'.repeat(32),
    action: 'act',
    clientSaeId: 'SAE_C',
    direction: 'request',
  });

  it('hands out the keys derived for each sequence number once; a replay is refused', async () => {
    const { keyId, key } = await qkdKey();
    const c = channel();
    const fetched = await metric(/^mecqkd_host_sae_keys_fetched_total\{[^}]*\} (\S+)$/m);
    for (const seq of [0, 1]) {
      const reply = await c.call({ op: 'derive', header: header(keyId, seq), ...DEMAND });
      expect(reply.requestKey).to.equal(deriveKey(key, header(keyId, seq)).toString('base64'));
    }
    const replay = await c.call({ op: 'derive', header: header(keyId, 1), ...DEMAND });
    expect(replay.error).to.include({ status: 409, reason: 'replay' });
    expect(await metric(/^mecqkd_host_sae_keys_fetched_total\{[^}]*\} (\S+)$/m)).to.equal(fetched + 1);
    // the key served its N = 2 and was retired: one observation of 2 invocations
    expect(
      await metric(/^mecqkd_host_sae_invocations_per_key_bucket\{le="2",[^}]*\} (\S+)$/m),
    ).to.be.at.least(1);
    expect(
      await metric(/^mecqkd_host_sae_envelope_failures_total\{reason="replay",[^}]*\} (\S+)$/m),
    ).to.equal(1);
  });

  it("serves the process's V8 heap and RSS on /metrics (what `make soak` samples)", async () => {
    expect(await metric(/^nodejs_heap_size_used_bytes (\S+)$/m)).to.be.above(0);
    expect(await metric(/^process_resident_memory_bytes (\S+)$/m)).to.be.above(0);
  });

  describe('keys handed ahead', () => {
    /** N = 10: room for keys ahead. */
    const TEN = { invocationsPerKey: 10, expectedInvocationsPerSecond: 10 };
    const b64 = (key: Buffer, seq: number, keyId: string) =>
      deriveKey(key, header(keyId, seq)).toString('base64');

    it('hands a derive asking for them the keys of the next sequence numbers, which no other connection gets unasked', async () => {
      const { keyId, key } = await qkdKey();
      const released: string[] = [];
      const a = channel(secret, (id) => {
        released.push(id);
        return [3]; // 1 and 2 "used" here, 3 not
      });
      const r = await a.call({ op: 'derive', header: header(keyId, 0), ...TEN, ahead: 3 });
      expect(r.requestKey).to.equal(b64(key, 0, keyId));
      expect(r.ahead?.keys.map((k) => k.seq)).to.deep.equal([1, 2, 3]);
      expect(r.ahead?.keys[1]?.requestKey).to.equal(b64(key, 2, keyId));
      expect(r.ahead?.validMs).to.be.above(60_000);
      // another container gets sequence 3 once the holder says it has not used it, and 2 never
      const b = channel();
      const three = await b.call({ op: 'derive', header: header(keyId, 3), ...TEN, ahead: 3 });
      expect(three.requestKey).to.equal(b64(key, 3, keyId));
      expect(released).to.deep.equal([keyId]);
      // contended: nothing more ahead, for anyone
      expect(three.ahead).to.equal(undefined);
      const two = await b.call({ op: 'derive', header: header(keyId, 2), ...TEN });
      expect(two.error).to.include({ status: 409, reason: 'replay' });
      const again = await a.call({ op: 'derive', header: header(keyId, 3), ...TEN });
      expect(again.error).to.include({ status: 409, reason: 'replay' });
      const four = await a.call({ op: 'derive', header: header(keyId, 4), ...TEN, ahead: 3 });
      expect(four.requestKey).to.equal(b64(key, 4, keyId));
      expect(four.ahead).to.equal(undefined);
    });

    it('takes what a holder held as used when it asks for it again or reports it; once it is gone, serves the rest to others', async () => {
      const { keyId, key } = await qkdKey();
      const a = channel();
      const r = await a.call({ op: 'derive', header: header(keyId, 0), ...TEN, ahead: 2 });
      expect(r.ahead?.keys.map((k) => k.seq)).to.deep.equal([1, 2]);
      // the holder itself asking for one it holds: it has used it
      expect((await a.call({ op: 'derive', header: header(keyId, 1), ...TEN })).error).to.include({
        reason: 'replay',
      });
      // renewed: the next ones after the one asked for
      const three = await a.call({ op: 'derive', header: header(keyId, 3), ...TEN, ahead: 2 });
      expect(three.ahead?.keys.map((k) => k.seq)).to.deep.equal([4, 5]);
      expect(a.send({ op: 'used', keyId, seq: 4 })).to.equal(true);
      a.close();
      expect(a.send({ op: 'used', keyId, seq: 5 })).to.equal(false);
      const b = channel();
      // reported (4) or asked for again (1): used; never reported (2, 5): served
      for (const seq of [1, 4])
        expect((await b.call({ op: 'derive', header: header(keyId, seq), ...TEN })).error).to.include({
          reason: 'replay',
        });
      for (const seq of [2, 5, 6])
        expect((await b.call({ op: 'derive', header: header(keyId, seq), ...TEN })).requestKey).to.equal(
          b64(key, seq, keyId),
        );
    });
  });

  it('answers a malformed frame with its field and keeps the channel; an unknown key is unknown-key', async () => {
    const c = channel();
    const bad = await c.call({ op: 'derive', header: { v: 1 }, ...DEMAND });
    expect(bad.error).to.include({ status: 400, reason: 'malformed' });
    expect(bad.error?.detail).to.match(/^header\./);
    const unknown = await c.call({ op: 'derive', header: header(randomUUID(), 0), ...DEMAND });
    expect(unknown.error).to.include({ status: 404, reason: 'unknown-key' });
    expect(await c.call({ op: 'failure', reason: 'authentication-failed' })).to.deep.equal({ id: 3 });
    expect(
      await metric(
        /^mecqkd_host_sae_envelope_failures_total\{reason="authentication-failed",[^}]*\} (\S+)$/m,
      ),
    ).to.equal(1);
  });

  it('refuses a wrong wrapper secret and closes the connection', async () => {
    const err = await channel(randomBytes(32).toString('base64url'))
      .call({ op: 'failure', reason: 'malformed' })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(WrapperError);
    expect((err as WrapperError).reason).to.equal('misconfigured');
  });

  it('gives a client without ALPN mecqkd-sae/1 (e.g. HTTPS) no channel', async () => {
    const closed = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, ca, ALPNProtocols: ['http/1.1'] });
      s.on('error', (e) => resolve(`error: ${e.message}`));
      s.on('close', () => resolve('closed'));
      s.on('data', () => resolve('answered'));
      s.write(`${JSON.stringify({ op: 'hello', secret })}\n`);
    });
    expect(closed).to.not.equal('answered');
  });

  it('closes a connection whose frame exceeds 16 KiB', async () => {
    const c = channel();
    const err = await c
      .call({ op: 'failure', reason: 'malformed', pad: 'x'.repeat(17 * 1024) })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(WrapperError);
    expect(c.closed).to.equal(true);
  });
});
