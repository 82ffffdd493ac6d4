// The per-SAE key quota: the bucket's arithmetic, then over real HTTPS + mutual TLS against a kme-sim
// process — a client SAE that calls enc_keys in a tight loop is refused past its quota while another
// SAE on the same QKD link still gets keys, and an admin changes the quota at run time.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type AdminClient, AdminError, createAdminClient } from '../src/admin-client.ts';
import type { Qkd014Client } from '../src/client.ts';
import { ErrorBody } from '../src/qkd014/schemas.ts';
import { type AppQos, SaeQuotas, takeBits } from '../src/quota.ts';
import { startTestbed, type Testbed } from '../src/testbed.ts';
import { ops, saeClient } from './helpers.ts';

describe('key quota arithmetic', () => {
  const q: AppQos = { maxBandwidth: 1000, burstBits: 4000 };

  it('serves a full burst, then refuses with the time until the bits have refilled', () => {
    const first = takeBits(undefined, 0, q, 4000);
    expect(first).to.deep.equal({ ok: true, bucket: { bits: 0, at: 0 } });
    if (!first.ok) return;
    expect(takeBits(first.bucket, 0, q, 256)).to.deep.equal({ ok: false, retryAfterMs: 256 });
    expect(takeBits(first.bucket, 256, q, 256)).to.deep.equal({ ok: true, bucket: { bits: 0, at: 256 } });
    // it never holds more than the burst, however long it was quiet
    expect(takeBits(first.bucket, 1e9, q, 4001)).to.deep.equal({ ok: false, retryAfterMs: 1 });
  });

  it('refunds a failed request, clips the bucket to a new burst, and lets an SAE without quota through', () => {
    let t = 0;
    const quotas = new SaeQuotas([['s', q]], () => t);
    const c = quotas.charge('s', 4000);
    expect(c.ok).to.equal(true);
    expect(quotas.charge('s', 256)).to.deep.include({ ok: false, retryAfterMs: 256 });
    if (c.ok) c.refund();
    expect(quotas.charge('s', 4000).ok, 'refunded').to.equal(true);
    expect(quotas.charge('s', 4001)).to.deep.include({ ok: false, tooLarge: true });
    t = 10_000;
    quotas.set('s', { maxBandwidth: 10, burstBits: 300 });
    expect(quotas.charge('s', 300).ok, 'full, clipped to the new burst').to.equal(true);
    expect(quotas.charge('s', 10)).to.deep.include({ ok: false, retryAfterMs: 1000 });
    quotas.set('s', undefined);
    expect(quotas.get('s')).to.equal(undefined);
    expect(quotas.charge('s', 1e9).ok).to.equal(true);
    expect(quotas.charge('other', 1e9).ok).to.equal(true);
  });
});

describe('key quota at the client KME (enc_keys over mutual TLS)', function () {
  this.timeout(60_000);
  // 10 keys/s of 256 bits with a burst of 16 keys: what `saeKeyQuota` gives a context declaring
  // 10 invocations/s at one key each is of this size
  const quota: AppQos = { maxBandwidth: 2560, burstBits: 16 * 256 };
  let tb: Testbed;
  let greedy: Qkd014Client;
  let other: Qkd014Client;
  let admin: AdminClient;

  before(async () => {
    tb = await startTestbed(
      {
        kmes: [
          {
            id: 'kme-client',
            saes: [{ id: 'sae-greedy', appQos: quota }, { id: 'sae-other', appQos: quota }, 'sae-free'],
            process: 'kmes',
          },
          { id: 'kme-host', saes: ['sae-host'], process: 'kmes' },
        ],
        // a link a tight loop empties in well under a second: 64 keys, refilled at 4 keys/s
        links: [{ kmes: ['kme-client', 'kme-host'], skrBitsPerSecond: 1024, capacityBits: 16_384 }],
      },
      join(tmpdir(), `kme-sim-quota-test-${process.pid}`),
      { logLevel: 'info' },
    );
    greedy = saeClient(tb, 'sae-greedy');
    other = saeClient(tb, 'sae-other');
    admin = createAdminClient({
      url: tb.kmes['kme-client']!.url,
      ca: readFileSync(tb.admin.ca),
      cert: readFileSync(tb.admin.cert),
      key: readFileSync(tb.admin.key),
    });
  });

  after(async () => {
    for (const c of [greedy, other, admin]) c?.close();
    await tb?.stop();
    if (tb && !process.env.KME_SIM_KEEP_TEST_DIR) rmSync(tb.dir, { recursive: true, force: true });
  });

  const metric = async (name: string, labels: string) => {
    const text = (await ops(tb, 'kme-client', '/metrics')) as string;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };
  const consumed = () => metric('kme_link_consumed_bits', 'link_id="kme-client--kme-host"');

  const encKeys = (c: Qkd014Client) => c.raw('POST', '/api/v1/keys/sae-host/enc_keys', {});
  /** enc_keys as fast as the answers come, for `ms`; the answers' statuses and bodies. */
  async function tightLoop(c: Qkd014Client, ms: number) {
    const answers = [];
    const end = Date.now() + ms;
    while (Date.now() < end) answers.push(await encKeys(c));
    return answers;
  }

  it('refuses a tight enc_keys loop past its quota, taking nothing, while another SAE on the link gets keys', async () => {
    const before = await consumed();
    const t0 = Date.now();
    const answers = await tightLoop(greedy, 2000);
    const seconds = (Date.now() - t0) / 1000;
    const served = answers.filter((a) => a.status === 200).length;
    const refused = answers.filter((a) => a.status === 503);
    expect(served + refused.length, 'nothing but keys and quota refusals').to.equal(answers.length);
    expect(refused.length, `${answers.length} requests in ${seconds} s`).to.be.greaterThan(0);
    // a burst of 16, then 10 keys/s (and one the clock may have refilled while the loop ended)
    expect(served)
      .to.be.at.least(16)
      .and.at.most(16 + Math.ceil(10 * seconds) + 1);
    expect(await consumed(), 'only served keys left the store').to.equal(before + served * 256);
    for (const r of refused.slice(0, 3)) {
      const body = ErrorBody.parse(r.body);
      expect(body.message).to.match(
        /^key quota of SAE sae-greedy exceeded \(app_qos max_bandwidth 2560 b\/s, burst 4096 bits\): retry after \d+ ms$/,
      );
      const detail = body.details?.[0]?.mecqkd_key_quota as { retry_after_ms: number };
      expect(detail).to.include({ max_bandwidth: 2560, burst_bits: 4096 });
      expect(detail.retry_after_ms).to.be.within(1, 100);
      expect(Number(r.headers['retry-after'])).to.equal(1);
    }
    expect(await metric('kme_key_quota_refusals_total', 'master_sae_id="sae-greedy"')).to.equal(
      refused.length,
    );

    // the link still holds key for the other SAEs on it
    const keys = await other.encKeys('sae-host', { number: 16 });
    expect(keys.keys).to.have.length(16);
    expect(await metric('kme_key_quota_refusals_total', 'master_sae_id="sae-other"')).to.equal(0);

    // a request larger than the burst can never be served: 400, not a 503 to retry
    const big = await greedy.raw('POST', '/api/v1/keys/sae-host/enc_keys', { number: 17 });
    expect(big.status).to.equal(400);
    expect(ErrorBody.parse(big.body).message).to.match(/exceed the burst of SAE sae-greedy's key quota/);

    // counted always, logged once a minute per SAE, never with a key
    const log = readFileSync(join(tb.dir, 'logs', 'kmes.log'), 'utf8');
    expect(
      log.split('\n').filter((l) => l.includes('an SAE takes key faster than its quota')),
    ).to.have.length(1);
    for (const k of keys.keys) expect(log).to.not.include(k.key);
  });

  it('lets an admin read, change and lift a quota; SAEs may not touch their own', async () => {
    expect(await admin.saeQos('sae-greedy')).to.deep.equal({ saeId: 'sae-greedy', appQos: quota });
    expect(await admin.saeQos('sae-free')).to.deep.equal({ saeId: 'sae-free', appQos: null });

    expect(await admin.setSaeQos('sae-greedy', null)).to.deep.equal({ saeId: 'sae-greedy', appQos: null });
    await tb.adjustLink('kme-client', 'kme-client--kme-host', { storedBits: 16_384 });
    for (let i = 0; i < 20; i++) expect((await encKeys(greedy)).status, 'no quota, no refusal').to.equal(200);

    const one = { maxBandwidth: 1, burstBits: 256 };
    expect(await admin.setSaeQos('sae-greedy', one)).to.deep.equal({ saeId: 'sae-greedy', appQos: one });
    expect((await greedy.encKeys('sae-host')).keys).to.have.length(1);
    const refused = await encKeys(greedy);
    expect(refused.status).to.equal(503);
    expect(ErrorBody.parse(refused.body).message).to.match(/max_bandwidth 1 b\/s, burst 256 bits/);
    expect(Number(refused.headers['retry-after'])).to.be.within(250, 256);

    // raising it keeps the (empty) bucket and fills it at the new rate
    await admin.setSaeQos('sae-greedy', { maxBandwidth: 1_000_000, burstBits: 256 * 64 });
    const start = Date.now();
    let served = 0;
    while (served === 0 && Date.now() - start < 10_000)
      served = (await encKeys(greedy)).status === 200 ? 1 : 0;
    expect(served).to.equal(1);

    const refusal = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(AdminError);
      return err as AdminError;
    };
    const low = await refusal(admin.setSaeQos('sae-greedy', { maxBandwidth: 10, burstBits: 8 }));
    expect(low.status).to.equal(400);
    expect(low.problem?.detail).to.match(
      /appQos\.burstBits \(8\) must be at least the KME's key_size \(256 bits\)/,
    );
    const zero = await refusal(admin.setSaeQos('sae-greedy', { maxBandwidth: 0, burstBits: 256 }));
    expect(zero.status).to.equal(400);
    expect(zero.problem?.detail).to.match(/appQos\.maxBandwidth/);
    expect((await refusal(admin.saeQos('sae-host'))).problem?.detail).to.equal(
      'SAE sae-host is not attached to KME kme-client',
    );
    // the SAE's own certificate is no admin's
    const self = createAdminClient({
      url: tb.kmes['kme-client']!.url,
      ca: readFileSync(tb.ca),
      cert: readFileSync(tb.saes['sae-greedy']!.cert),
      key: readFileSync(tb.saes['sae-greedy']!.key),
    });
    try {
      const own = await refusal(self.setSaeQos('sae-greedy', null));
      expect(own.status).to.equal(403);
    } finally {
      self.close();
    }
    expect((await admin.saeQos('sae-greedy')).appQos).to.deep.equal({
      maxBandwidth: 1_000_000,
      burstBits: 16_384,
    });
    // never over plain HTTP
    const plain = await fetch(`${tb.kmes['kme-client']!.opsUrl}/mecqkd/v1/admin/saes/sae-greedy/app_qos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appQos: null }),
    });
    expect(plain.status).to.equal(403);
  });
});
