// The per-context key allowance at its enforcement point, with real parts: a host SAE process, a
// real redis-server for its state, kme-sim KMEs over mutual TLS. A greedy context is refused new keys
// past its allowance while another context on the same QKD link keeps getting keys; a key serving
// its N invocations counts once; the state outlives a host SAE restart; the Redis script decides as
// the pure rule does; and nothing on the refusal path logs key material.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type CertificateAuthority, createCa } from '@mecqkd/common/pki';
import { freePort } from '@mecqkd/common/ports';
import { createQkd014Client, type Qkd014Client } from '@mecqkd/kme-sim/client';
import { startTestbed, type Testbed } from '@mecqkd/kme-sim/testbed';
import { sharedRedis } from '@mecqkd/localenv/shared';
import { deriveKey, ENVELOPE_VERSION, type EnvelopeHeader } from '@mecqkd/sdk/envelope';
import { admitKey, type KeyAllowance, keyAllowance } from '@mecqkd/sdk/key-allowance';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import winston from 'winston';
import { openChannel, type SaeChannel } from '../src/channel-client.ts';
import { createKeyAllowanceCheck, createKeyAllowanceGate } from '../src/key-allowance.ts';
import { createHostSaeMetrics } from '../src/metrics.ts';
import { type RunningHostSaeProcess, startHostSaeProcess } from '../src/testbed.ts';

describe('per-context key allowance at the host SAE (real SAE process, redis, kme-sim)', function () {
  this.timeout(120_000);
  let dir: string;
  let kmes: Testbed;
  let kme: Qkd014Client;
  let ca: CertificateAuthority;
  let redisUrl: string;
  let sae: RunningHostSaeProcess;
  const secret = randomBytes(32).toString('base64url');
  const channels: SaeChannel[] = [];
  /** Every key the test took from the client KME (base64), for the log scan. */
  const keysSeen: string[] = [];

  const startSae = () =>
    startHostSaeProcess({
      dir,
      saeId: 'SAE_H',
      ca,
      kme: { url: kmes.saes.SAE_H!.url, ...pemPaths(kmes.saes.SAE_H!) },
      wrapperSecret: secret,
      redisUrl,
      logLevel: 'debug',
    });
  const pemPaths = (s: { ca: string; cert: string; key: string }) => ({ ca: s.ca, cert: s.cert, key: s.key });
  const channel = () => {
    const c = openChannel({ host: sae.host, port: sae.port, ca: ca.cert, secret });
    channels.push(c);
    return c;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mecqkd-key-allowance-'));
    redisUrl = (await sharedRedis()).url;
    kmes = await startTestbed(
      {
        kmes: [
          { id: 'KME_C', saes: ['SAE_C'], process: 'kmes' },
          { id: 'KME_H', saes: ['SAE_H'], process: 'kmes' },
        ],
        links: [{ kmes: ['KME_C', 'KME_H'], skrBitsPerSecond: 1_000_000, capacityBits: 4_000_000 }],
      },
      join(dir, 'kmes'),
    );
    const c = kmes.saes.SAE_C!;
    kme = createQkd014Client({
      url: c.url,
      ca: readFileSync(c.ca),
      cert: readFileSync(c.cert),
      key: readFileSync(c.key),
    });
    ca = await createCa('key allowance test CA');
    sae = await startSae();
  });
  after(async () => {
    for (const c of channels) c.close();
    kme?.close();
    await sae?.stop();
    await kmes?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function qkdKey(): Promise<{ keyId: string; key: Buffer }> {
    const got = await kme.encKeys('SAE_H', { number: 1 });
    const k = got.keys[0]!;
    keysSeen.push(k.key);
    return { keyId: k.key_ID, key: Buffer.from(k.key, 'base64') };
  }
  const header = (contextId: string, keyId: string, seq: number): EnvelopeHeader => ({
    v: ENVELOPE_VERSION,
    keyId,
    seq,
    contextId,
    action: 'act',
    clientSaeId: 'SAE_C',
    direction: 'request',
  });
  // 0.5 invocations/s at one invocation per key: 0.5 keys/s, a burst of 16 keys
  const demand = { expectedInvocationsPerSecond: 0.5, invocationsPerKey: 1 };
  const derive = async (c: SaeChannel, contextId: string, keyId: string, seq = 0, d = demand) => {
    const reply = await c.call({ op: 'derive', header: header(contextId, keyId, seq), ...d });
    for (const k of [reply.requestKey, reply.responseKey]) if (k) keysSeen.push(k);
    return reply;
  };

  it('refuses a greedy context past its allowance, with a retry hint; another context keeps getting keys', async () => {
    const greedy = randomBytes(16).toString('hex');
    const other = randomBytes(16).toString('hex');
    const { burst } = keyAllowance(demand);
    const c = channel();
    for (let i = 0; i < burst; i++) {
      const { keyId, key } = await qkdKey();
      const reply = await derive(c, greedy, keyId);
      expect(reply.requestKey, `key ${i + 1} of the burst`).to.equal(
        deriveKey(key, header(greedy, keyId, 0)).toString('base64'),
      );
    }
    const refusedKey = await qkdKey();
    const refused = await derive(c, greedy, refusedKey.keyId);
    expect(refused.error).to.include({ status: 429, reason: 'key-rate-exceeded' });
    expect(refused.error?.retryAfterMs).to.be.a('number').above(0).and.at.most(2000);
    expect(refused.error?.detail).to.match(/allowance/);
    const mine = await qkdKey();
    const ok = await derive(c, other, mine.keyId);
    expect(ok.requestKey).to.equal(deriveKey(mine.key, header(other, mine.keyId, 0)).toString('base64'));
    const metrics = await (await fetch(`${sae.opsUrl}/metrics`)).text();
    expect(metrics).to.match(
      /^mecqkd_host_sae_envelope_failures_total\{reason="key-rate-exceeded",[^}]*\} 1$/m,
    );
    // the refused key was left at the host KME: once the context's allowance has room, it serves
    const deadline = Date.now() + 10_000;
    let later = await derive(c, greedy, refusedKey.keyId);
    while (later.error?.reason === 'key-rate-exceeded' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      later = await derive(c, greedy, refusedKey.keyId);
    }
    expect(later.requestKey).to.equal(
      deriveKey(refusedKey.key, header(greedy, refusedKey.keyId, 0)).toString('base64'),
    );
  });

  it('counts a key once for all its invocations', async () => {
    const ctx = randomBytes(16).toString('hex');
    const n = 40;
    const d = { expectedInvocationsPerSecond: 0.01, invocationsPerKey: n };
    const c = channel();
    const { keyId } = await qkdKey();
    // more invocations than the burst has keys: all under one key
    for (let seq = 0; seq < n; seq++)
      expect((await derive(c, ctx, keyId, seq, d)).requestKey).to.be.a('string');
  });

  it('keeps the allowance across a host SAE restart (state in Redis)', async () => {
    const ctx = randomBytes(16).toString('hex');
    // one key a minute: what the restart takes refills nothing
    const slow = { expectedInvocationsPerSecond: 0, invocationsPerKey: 1 };
    const { burst } = keyAllowance(slow);
    let c = channel();
    for (let i = 0; i < burst; i++)
      expect((await derive(c, ctx, (await qkdKey()).keyId, 0, slow)).error).to.equal(undefined);
    // killed, not stopped: nothing is flushed on the way out
    await sae.process.stop('SIGKILL');
    sae = await startSae();
    c = channel();
    const after = await derive(c, ctx, (await qkdKey()).keyId, 0, slow);
    expect(after.error).to.include({ status: 429, reason: 'key-rate-exceeded' });
    const fresh = await derive(c, randomBytes(16).toString('hex'), (await qkdKey()).keyId, 0, slow);
    expect(fresh.error).to.equal(undefined);
  });

  it('the Redis script decides as the pure rule does', async () => {
    const redis = new Redis(redisUrl);
    try {
      const gate = createKeyAllowanceGate(redis, 'SAE_EQUIV');
      const a: KeyAllowance = { keysPerSecond: 3, burst: 5 };
      let tat: number | undefined;
      let t = 1_800_000_000_000;
      const ctx = randomBytes(16).toString('hex');
      const mismatches: string[] = [];
      for (let i = 0; i < 200; i++) {
        t += [0, 0, 10, 100, 333, 1000, 5000][i % 7]!;
        const pure = admitKey(tat, t, a);
        if (pure.ok) tat = pure.tat;
        const script = await gate.admit(ctx, a, t);
        const same =
          script.ok === pure.ok && (pure.ok || (!script.ok && script.retryAfterMs === pure.retryAfterMs));
        if (!same) mismatches.push(`${i}: pure ${JSON.stringify(pure)} script ${JSON.stringify(script)}`);
      }
      expect(mismatches).to.deep.equal([]);
      // the state expires once it says nothing any more
      const ttl = await redis.pttl(gate.keyOf(ctx));
      expect(ttl)
        .to.be.above(0)
        .and.at.most(Math.ceil((tat ?? t) - t) + 1);
    } finally {
      redis.disconnect();
    }
  });

  it('admits new keys, counted and logged once, while Redis does not answer', async () => {
    const metrics = createHostSaeMetrics('SAE_NO_REDIS');
    const lines: string[] = [];
    const logger = winston.createLogger({
      transports: [
        new winston.transports.Stream({ stream: new PassThrough().on('data', (l) => lines.push(String(l))) }),
      ],
    });
    const check = createKeyAllowanceCheck({
      redisUrl: `redis://127.0.0.1:${await freePort()}`,
      saeId: 'SAE_NO_REDIS',
      metrics,
      logger,
    });
    try {
      await check.ready(200);
      for (let i = 0; i < 3; i++)
        expect(
          await check.newKey('d'.repeat(32), { expectedInvocationsPerSecond: 0, invocationsPerKey: 1 }),
        ).to.deep.equal({ ok: true });
      expect((await metrics.keyAllowanceUnchecked.get()).values[0]?.value).to.equal(3);
      expect(lines.filter((l) => l.includes('key allowance unchecked'))).to.have.length(1);
    } finally {
      check.close();
    }
  });

  it('never logs key material (the refusal path included)', async () => {
    const log = readFileSync(join(dir, 'SAE_H', 'host-sae.log'), 'utf8');
    // the refusals were logged (context and allowance), so the scan covers that path
    expect(log).to.include('faster than its allowance');
    const hits = keysSeen.filter(
      (k) => log.includes(k) || log.includes(Buffer.from(k, 'base64').toString('hex')),
    );
    expect(hits).to.deep.equal([]);
    expect(keysSeen.length).to.be.above(30);
  });
});
