// QKD 014 over real HTTPS + mutual TLS on loopback, against kme-sim child processes:
// process "p1" runs kme-a; process "p2" runs kme-b … kme-e. Links: a–b–c–d (relay chain) and a–e (small).
import { readFileSync, rmSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { Agent, get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { expect } from 'chai';
import { AdminError } from '../src/admin-client.ts';
import { writeCerts } from '../src/certs.ts';
import { createQkd014Client, type Qkd014Client, Qkd014Error } from '../src/client.ts';
import { type JsonResponse, requestJson } from '../src/https-json.ts';
import { LinksResponse } from '../src/link-status.ts';
import { Problem } from '../src/problem.ts';
import { ErrorBody, KeyContainer, Status } from '../src/qkd014/schemas.ts';
import { startKmeProcess, startTestbed, type Testbed } from '../src/testbed.ts';
import { ops, saeClient } from './helpers.ts';

const NOT_FOUND = 'one or more keys specified are not found on KME';

describe('kme-sim over HTTPS and mutual TLS', function () {
  this.timeout(60_000);
  let tb: Testbed;
  let a1: Qkd014Client;
  let a2: Qkd014Client;
  let b1: Qkd014Client;
  let b2: Qkd014Client;
  const delivered: string[] = [];
  const remember = (c: KeyContainer) => {
    for (const k of c.keys) delivered.push(k.key);
    return c;
  };

  before(async () => {
    const dir = join(tmpdir(), `kme-sim-test-${process.pid}`);
    tb = await startTestbed(
      {
        kmes: [
          { id: 'kme-a', saes: ['sae-a1', 'sae-a2', 'sae-a3'], maxSaeIdCount: 2, process: 'p1' },
          { id: 'kme-b', saes: ['sae-b1', 'sae-b2'], process: 'p2' },
          { id: 'kme-c', saes: ['sae-c1'], process: 'p2' },
          { id: 'kme-d', saes: ['sae-d1'], process: 'p2' },
          { id: 'kme-e', saes: ['sae-e1'], keyTtlSeconds: 1, process: 'p2' },
          { id: 'kme-f', saes: ['sae-f1'], process: 'p3' },
        ],
        links: [
          { kmes: ['kme-a', 'kme-b'] },
          { kmes: ['kme-b', 'kme-c'] },
          { kmes: ['kme-c', 'kme-d'] },
          { kmes: ['kme-a', 'kme-e'], skrBitsPerSecond: 1024, capacityBits: 2048 },
          { kmes: ['kme-a', 'kme-f'] },
        ],
      },
      dir,
      { logLevel: 'info' },
    );
    a1 = saeClient(tb, 'sae-a1');
    a2 = saeClient(tb, 'sae-a2');
    b1 = saeClient(tb, 'sae-b1');
    b2 = saeClient(tb, 'sae-b2');
  });

  after(async () => {
    for (const c of [a1, a2, b1, b2]) c?.close();
    await tb?.stop();
    // Logs and certificates stay for a look after a failure when KME_SIM_KEEP_TEST_DIR is set.
    if (tb && !process.env.KME_SIM_KEEP_TEST_DIR) rmSync(tb.dir, { recursive: true, force: true });
  });

  /** The raw answer of a request expected to fail, with its Error body checked against Table 13. */
  async function failure(c: Qkd014Client, method: string, path: string, body?: unknown) {
    const res = await c.raw(method, path, body);
    expect(res.status, res.text).to.not.equal(200);
    expect(res.headers['content-type']).to.equal('application/json');
    return { ...res, error: ErrorBody.parse(res.body) };
  }

  describe('Get status', () => {
    it('describes keys towards a slave on a linked KME', async () => {
      const s = await a1.status('sae-b1');
      expect(s).to.include({
        source_KME_ID: 'kme-a',
        target_KME_ID: 'kme-b',
        master_SAE_ID: 'sae-a1',
        slave_SAE_ID: 'sae-b1',
        key_size: 256,
        max_key_per_request: 128,
        min_key_size: 64,
        max_key_size: 1024,
        max_SAE_ID_count: 2,
        max_key_count: 3906,
      });
      expect(s.stored_key_count).to.be.within(1, s.max_key_count);
    });

    it('names the local KME as target for a slave on the same KME', async () => {
      expect(await a1.status('sae-a2')).to.include({ source_KME_ID: 'kme-a', target_KME_ID: 'kme-a' });
    });

    it('rejects a blank, unknown or self slave with 400, and other methods with 405', async () => {
      expect((await failure(a1, 'GET', '/api/v1/keys/%20/status')).status).to.equal(400);
      const encoding = await failure(a1, 'GET', '/api/v1/keys/%E0%A4%A/status');
      expect([encoding.status, encoding.error.message]).to.deep.equal([
        400,
        'SAE ID in the path is not valid percent-encoding',
      ]);
      expect((await a1.status('sae-b1')).slave_SAE_ID).to.equal('sae-b1');
      const unknown = await failure(a1, 'GET', '/api/v1/keys/nobody/status');
      expect([unknown.status, unknown.error.message]).to.deep.equal([400, 'unknown slave SAE nobody']);
      expect((await failure(a1, 'GET', '/api/v1/keys/sae-a1/status')).status).to.equal(400);
      const post = await failure(a1, 'POST', '/api/v1/keys/sae-b1/status', {});
      expect([post.status, post.headers.allow]).to.deep.equal([405, 'GET']);
      const put = await failure(a1, 'PUT', '/api/v1/keys/sae-b1/enc_keys', {});
      expect([put.status, put.headers.allow]).to.deep.equal([405, 'GET, POST']);
      expect((await failure(a1, 'DELETE', '/api/v1/keys/sae-a1/dec_keys')).headers.allow).to.equal(
        'GET, POST',
      );
    });
  });

  describe('Get key and Get key with key IDs', () => {
    it('GET enc_keys without parameters: one key of key_size; GET dec_keys ?key_ID= returns the same key', async () => {
      const enc = remember(KeyContainer.parse((await a1.raw('GET', '/api/v1/keys/sae-b1/enc_keys')).body));
      expect(enc.keys).to.have.length(1);
      const [k] = enc.keys;
      expect(Buffer.from(k?.key ?? '', 'base64')).to.have.length(32);
      expect(k?.key_ID).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const dec = await b1.raw('GET', `/api/v1/keys/sae-a1/dec_keys?key_ID=${k?.key_ID}`);
      expect(dec.status).to.equal(200);
      expect(KeyContainer.parse(dec.body).keys).to.deep.equal(enc.keys);
    });

    it('GET with number and size; POST with an empty body, {} and a full Key request', async () => {
      const q = KeyContainer.parse(
        (await a1.raw('GET', '/api/v1/keys/sae-b1/enc_keys?number=3&size=512')).body,
      );
      expect(q.keys.map((k) => Buffer.from(k.key, 'base64').length)).to.deep.equal([64, 64, 64]);
      const empty = await a1.raw('POST', '/api/v1/keys/sae-b1/enc_keys');
      expect(KeyContainer.parse(empty.body).keys).to.have.length(1);
      const braces = await a1.raw('POST', '/api/v1/keys/sae-b1/enc_keys', {});
      expect(KeyContainer.parse(braces.body).keys).to.have.length(1);
      const five = remember(
        await a1.encKeys('sae-b1', { number: 5, size: 1024, extension_optional: [{ x_y: 1 }] }),
      );
      expect(five.keys.map((k) => Buffer.from(k.key, 'base64').length)).to.deep.equal([
        128, 128, 128, 128, 128,
      ]);
      const back = await b1.decKeys(
        'sae-a1',
        five.keys.map((k) => k.key_ID),
      );
      expect(back.keys).to.deep.equal(five.keys);
    });

    it('delivers a key once: a second dec_keys answers 400 with the exact message', async () => {
      const enc = remember(await a1.encKeys('sae-b1', { number: 1 }));
      const id = enc.keys[0]?.key_ID as string;
      await b1.decKeys('sae-a1', [id]);
      const again = await failure(b1, 'POST', '/api/v1/keys/sae-a1/dec_keys', { key_IDs: [{ key_ID: id }] });
      expect([again.status, again.error.message]).to.deep.equal([400, NOT_FOUND]);
    });

    it('fails the whole request with 401 for an SAE that is not an authorised slave, taking nothing', async () => {
      const enc = remember(await a1.encKeys('sae-b1', { number: 2 }));
      const ids = enc.keys.map((k) => k.key_ID);
      const res = await failure(b2, 'POST', '/api/v1/keys/sae-a1/dec_keys', {
        key_IDs: ids.map((key_ID) => ({ key_ID })),
      });
      expect(res.status).to.equal(401);
      expect((await b1.decKeys('sae-a1', ids)).keys).to.deep.equal(enc.keys);
    });

    it('serves master and slave on the same KME, and refuses the master its own key (401)', async () => {
      const enc = remember(await a1.encKeys('sae-a2', { number: 2 }));
      const ids = enc.keys.map((k) => k.key_ID);
      expect(
        (
          await failure(a1, 'POST', '/api/v1/keys/sae-a1/dec_keys', {
            key_IDs: ids.map((key_ID) => ({ key_ID })),
          })
        ).status,
      ).to.equal(401);
      expect((await a2.decKeys('sae-a1', ids)).keys).to.deep.equal(enc.keys);
    });

    it('shares identical keys with additional slaves on this and other KMEs', async () => {
      const enc = remember(
        await a1.encKeys('sae-b1', { number: 2, additional_slave_SAE_IDs: ['sae-a2', 'sae-b2'] }),
      );
      const ids = enc.keys.map((k) => k.key_ID);
      for (const c of [b1, a2, b2]) expect((await c.decKeys('sae-a1', ids)).keys).to.deep.equal(enc.keys);
    });

    it('answers unknown, malformed or foreign key IDs with 400', async () => {
      const unknown = await failure(
        b1,
        'GET',
        '/api/v1/keys/sae-a1/dec_keys?key_ID=2b2d0b47-5a04-4d6b-9d7c-1d1a6b9f1c11',
      );
      expect([unknown.status, unknown.error.message]).to.deep.equal([400, NOT_FOUND]);
      expect((await failure(b1, 'GET', '/api/v1/keys/sae-a1/dec_keys?key_ID=non-uuid')).status).to.equal(400);
      expect((await failure(b1, 'GET', '/api/v1/keys/sae-a1/dec_keys')).status).to.equal(400);
      expect((await failure(b1, 'POST', '/api/v1/keys/sae-a1/dec_keys')).status).to.equal(400);
      expect((await failure(b1, 'POST', '/api/v1/keys/sae-a1/dec_keys', { key_IDs: [] })).status).to.equal(
        400,
      );
      const enc = remember(await a1.encKeys('sae-b1'));
      const id = enc.keys[0]?.key_ID as string;
      // Reserved by sae-a1, asked for under another master: not found for that master.
      const other = await failure(b1, 'POST', '/api/v1/keys/sae-a2/dec_keys', { key_IDs: [{ key_ID: id }] });
      expect([other.status, other.error.message]).to.deep.equal([400, NOT_FOUND]);
      const dup = await failure(b1, 'POST', '/api/v1/keys/sae-a1/dec_keys', {
        key_IDs: [{ key_ID: id }, { key_ID: id }],
      });
      expect(dup.status).to.equal(400);
      await b1.decKeys('sae-a1', [id]);
    });

    it('enforces the Status limits with 400 and the spec’s exact messages', async () => {
      const cases: [string, string, unknown, string | RegExp][] = [
        ['POST', 'enc_keys', { size: 12 }, 'size shall be a multiple of 8'],
        ['GET', 'enc_keys?size=12', undefined, 'size shall be a multiple of 8'],
        [
          'POST',
          'enc_keys',
          { size: 2048 },
          'size must be between min_key_size (64) and max_key_size (1024)',
        ],
        ['POST', 'enc_keys', { size: 32 }, 'size must be between min_key_size (64) and max_key_size (1024)'],
        ['POST', 'enc_keys', { number: 129 }, 'number exceeds max_key_per_request (128)'],
        ['GET', 'enc_keys?number=129', undefined, 'number exceeds max_key_per_request (128)'],
        ['POST', 'enc_keys', { size: 0 }, /size/],
        ['POST', 'enc_keys', { size: -8 }, /size/],
        ['POST', 'enc_keys', { size: 'abc01' }, /size/],
        ['GET', 'enc_keys?size=abc01', undefined, 'size must be a positive integer'],
        ['GET', 'enc_keys?size=0', undefined, 'size must be a positive integer'],
        ['POST', 'enc_keys', { number: 0 }, /number/],
        ['POST', 'enc_keys', { number: -8 }, /number/],
        ['GET', 'enc_keys?number=abc01', undefined, 'number must be a positive integer'],
        ['GET', 'enc_keys?colour=red', undefined, 'unsupported query parameter colour'],
        ['POST', 'enc_keys', '{"number":', 'request body is not valid JSON'],
        ['POST', 'enc_keys', { numbr: 1 }, /numbr/],
        ['POST', 'enc_keys', { additional_slave_SAE_IDs: [] }, /must not be empty/],
        ['POST', 'enc_keys', { additional_slave_SAE_IDs: ['sae-a2', ' '] }, /blank/],
        ['POST', 'enc_keys', { additional_slave_SAE_IDs: ['sae-a2', 'sae-a2'] }, /duplicates/],
        ['POST', 'enc_keys', { additional_slave_SAE_IDs: ['sae-b1'] }, /repeats the slave/],
        ['POST', 'enc_keys', { additional_slave_SAE_IDs: ['sae-a1'] }, /must differ/],
        ['POST', 'enc_keys', { additional_slave_SAE_IDs: ['nobody'] }, /unknown slave SAE nobody/],
        [
          'POST',
          'enc_keys',
          { additional_slave_SAE_IDs: ['sae-a2', 'sae-a3', 'sae-b2'] },
          /max_SAE_ID_count \(2\)/,
        ],
      ];
      for (const [method, op, body, message] of cases) {
        const res = await failure(a1, method, `/api/v1/keys/sae-b1/${op}`, body);
        expect(res.status, `${method} ${op} ${JSON.stringify(body)}`).to.equal(400);
        if (typeof message === 'string') expect(res.error.message).to.equal(message);
        else expect(res.error.message).to.match(message);
        expect(res.error).to.not.have.property('details');
      }
      const self = await failure(a1, 'GET', '/api/v1/keys/sae-a1/enc_keys');
      expect(self.status).to.equal(400);
      expect((await failure(a1, 'GET', '/api/v1/keys/%20/enc_keys')).status).to.equal(400);
      expect((await failure(a1, 'GET', '/api/v1/keys/sae-zz/enc_keys')).status).to.equal(400);
    });

    it('handles extension_mandatory: unsupported, unmet, and supported route type', async () => {
      const unsupported = await failure(a1, 'POST', '/api/v1/keys/sae-b1/enc_keys', {
        extension_mandatory: [{ abc_route_type: 'direct' }],
      });
      expect(unsupported.status).to.equal(400);
      expect(unsupported.error).to.deep.equal({
        message: 'not all extension_mandatory parameters are supported',
        details: [{ extension_mandatory_unsupported: 'abc_route_type is not supported' }],
      });
      const unmet = await failure(a1, 'POST', '/api/v1/keys/sae-d1/enc_keys', {
        extension_mandatory: [{ mecqkd_route_type: 'direct' }],
      });
      expect([unmet.status, unmet.error.message]).to.deep.equal([
        400,
        'not all extension_mandatory request options could be met',
      ]);
      const direct = remember(
        await a1.encKeys('sae-b1', { extension_mandatory: [{ mecqkd_route_type: 'direct' }] }),
      );
      expect((await b1.decKeys('sae-a1', [direct.keys[0]?.key_ID as string])).keys).to.deep.equal(
        direct.keys,
      );
    });
  });

  describe('concurrency', () => {
    it('never gives the same key or key ID to two of 40 parallel enc_keys', async () => {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a1 : a2).encKeys('sae-b1', { number: 4 })),
      );
      const keys = results.flatMap((r) => remember(r).keys);
      expect(new Set(keys.map((k) => k.key_ID)).size).to.equal(160);
      expect(new Set(keys.map((k) => k.key)).size).to.equal(160);
      const fetched = await Promise.all(
        results.map((r, i) =>
          b1.decKeys(
            i % 2 === 0 ? 'sae-a1' : 'sae-a2',
            r.keys.map((k) => k.key_ID),
          ),
        ),
      );
      expect(fetched.map((f) => f.keys)).to.deep.equal(results.map((r) => r.keys));
    });

    it('keeps the two directions of a link apart when both ends reserve at once', async () => {
      const [ab, ba] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, () => a1.encKeys('sae-b1', { number: 8 }))),
        Promise.all(Array.from({ length: 10 }, () => b1.encKeys('sae-a1', { number: 8 }))),
      ]);
      const keys = [...ab, ...ba].flatMap((r) => remember(r).keys.map((k) => k.key));
      expect(new Set(keys).size).to.equal(160);
      const back = await Promise.all(
        ba.map((r) =>
          a1.decKeys(
            'sae-b1',
            r.keys.map((k) => k.key_ID),
          ),
        ),
      );
      expect(back.map((r) => r.keys)).to.deep.equal(ba.map((r) => r.keys));
    });
  });

  describe('trusted-node relay', () => {
    it('relays a key over 3 hops (a–b–c–d), consuming key on every hop', async () => {
      const linksBefore = await Promise.all(['kme-b', 'kme-c'].map((k) => ops(tb, k, '/mecqkd/v1/links')));
      const d1 = saeClient(tb, 'sae-d1');
      try {
        const status = Status.parse(await a1.status('sae-d1'));
        expect(status).to.include({ target_KME_ID: 'kme-d', max_key_count: 3906 });
        const enc = remember(await a1.encKeys('sae-d1', { number: 3, size: 1024 }));
        expect(
          (
            await d1.decKeys(
              'sae-a1',
              enc.keys.map((k) => k.key_ID),
            )
          ).keys,
        ).to.deep.equal(enc.keys);
      } finally {
        d1.close();
      }
      const linksAfter = await Promise.all(['kme-b', 'kme-c'].map((k) => ops(tb, k, '/mecqkd/v1/links')));
      const consumed = (before: unknown, after: unknown, id: string) => {
        const find = (r: unknown) => LinksResponse.parse(r).links.find((l) => l.id === id);
        return (find(before)?.expectedConsumption ?? 0) < (find(after)?.expectedConsumption ?? 0);
      };
      expect(consumed(linksBefore[0], linksAfter[0], 'kme-a--kme-b')).to.equal(true);
      expect(consumed(linksBefore[0], linksAfter[0], 'kme-b--kme-c')).to.equal(true);
      expect(consumed(linksBefore[1], linksAfter[1], 'kme-c--kme-d')).to.equal(true);
      const route = (await ops(tb, 'kme-a', '/mecqkd/v1/routes/kme-d')) as Record<string, unknown>;
      expect(route).to.include({ type: 'VIRT', skr: 1_000_000, capacityBits: 1_000_000 });
      expect(route.route).to.deep.equal(['kme-a', 'kme-b', 'kme-c', 'kme-d']);
    });

    it('reports the bottleneck of the path in Status', async () => {
      await tb.adjustLink('kme-c', 'kme-c--kme-d', { storedBits: 25_600, skrBitsPerSecond: 0 });
      try {
        expect((await a1.status('sae-d1')).stored_key_count).to.equal(100);
      } finally {
        await tb.adjustLink('kme-c', 'kme-c--kme-d', { storedBits: 1_000_000, skrBitsPerSecond: 1_000_000 });
      }
    });
  });

  describe('pool exhaustion and expiry', () => {
    let e1: Qkd014Client;
    before(() => {
      e1 = saeClient(tb, 'sae-e1');
    });
    after(() => e1.close());

    it('answers 503 with Retry-After when the link is empty, never fewer keys, and recovers as it refills', async () => {
      await tb.adjustLink('kme-a', 'kme-a--kme-e', { storedBits: 2048 });
      const full = remember(await a1.encKeys('sae-e1', { number: 8 }));
      expect(full.keys).to.have.length(8);
      const empty = await failure(a1, 'POST', '/api/v1/keys/sae-e1/enc_keys', { number: 4 });
      expect(empty.status).to.equal(503);
      expect(Number(empty.headers['retry-after'])).to.be.within(1, 3);
      expect(empty.error.message).to.match(/not enough key material/);
      const status = await a1.status('sae-e1');
      expect(status.stored_key_count).to.be.below(4);
      await new Promise((r) => setTimeout(r, 1200));
      const again = remember(await a1.encKeys('sae-e1', { number: 4 }));
      expect(
        (
          await e1.decKeys(
            'sae-a1',
            again.keys.map((k) => k.key_ID),
          )
        ).keys,
      ).to.deep.equal(again.keys);
    });

    it('drops keys that no slave fetched within the TTL', async () => {
      await tb.adjustLink('kme-a', 'kme-a--kme-e', { storedBits: 2048 });
      const enc = remember(await a1.encKeys('sae-e1'));
      await new Promise((r) => setTimeout(r, 1300));
      const res = await failure(e1, 'GET', `/api/v1/keys/sae-a1/dec_keys?key_ID=${enc.keys[0]?.key_ID}`);
      expect([res.status, res.error.message]).to.deep.equal([400, NOT_FOUND]);
    });

    it('follows admin changes at both ends: drained and stopped is OFF, the client sees 503', async () => {
      const drained = await tb.adjustLink('kme-a', 'kme-a--kme-e', {
        storedBits: 0,
        skrBitsPerSecond: 0,
      });
      expect(drained).to.include({ status: 'OFF', storedBits: 0, keyAvailability: 0 });
      const far = LinksResponse.parse(await ops(tb, 'kme-e', '/mecqkd/v1/links')).links[0];
      expect(far).to.include({ status: 'OFF', skr: 0, remoteKmeId: 'kme-a' });
      const err = await a1.encKeys('sae-e1').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(Qkd014Error);
      expect((err as Qkd014Error).status).to.equal(503);
      expect((err as Qkd014Error).retryAfterSeconds).to.equal(10);
      await tb.adjustLink('kme-a', 'kme-a--kme-e', {
        skrBitsPerSecond: 1024,
        enabled: false,
      });
      expect(LinksResponse.parse(await ops(tb, 'kme-e', '/mecqkd/v1/links')).links[0]?.status).to.equal(
        'OFF',
      );
      await tb.adjustLink('kme-a', 'kme-a--kme-e', { enabled: true, storedBits: 2048 });
      expect(LinksResponse.parse(await ops(tb, 'kme-e', '/mecqkd/v1/links')).links[0]?.status).to.equal(
        'ACTIVE',
      );
    });
  });

  describe('a neighbouring KME going away', () => {
    it('answers 503 with Retry-After while kme-f is down, and serves again once it is back', async () => {
      const p3 = tb.processes.find((p) => p.name === 'kme-sim p3');
      await p3?.stop();
      const down = await failure(a1, 'POST', '/api/v1/keys/sae-f1/enc_keys', {});
      expect(down.status).to.equal(503);
      expect(down.headers['retry-after']).to.equal('5');
      expect(down.error.message).to.match(/KME channel to https:\/\/127\.0\.0\.1:\d+ failed/);
      const restarted = await startKmeProcess(tb.configPath, tb.config, ['kme-f'], {
        name: 'kme-sim p3',
        logFile: join(tb.dir, 'logs', 'p3.log'),
        logLevel: 'info',
      });
      tb.processes.push(restarted);
      const f1 = saeClient(tb, 'sae-f1');
      try {
        const enc = remember(await a1.encKeys('sae-f1', { number: 2 }));
        expect(
          (
            await f1.decKeys(
              'sae-a1',
              enc.keys.map((k) => k.key_ID),
            )
          ).keys,
        ).to.deep.equal(enc.keys);
      } finally {
        f1.close();
      }
    });
  });

  describe('authentication', () => {
    it('answers 401 to a certificate of an unknown SAE and to an SAE of another KME', async () => {
      const certs = await writeCerts(join(tb.dir, 'certs'), { kmes: [], saes: ['sae-ghost'] });
      const ghost = createQkd014Client({
        url: tb.kmes['kme-a']?.url as string,
        ca: readFileSync(tb.ca),
        cert: readFileSync(certs.saes['sae-ghost']?.cert as string),
        key: readFileSync(certs.saes['sae-ghost']?.key as string),
      });
      const foreign = saeClient(tb, 'sae-b1', tb.kmes['kme-a']?.url);
      try {
        expect((await ghost.raw('GET', '/api/v1/keys/sae-b1/status')).status).to.equal(401);
        expect((await foreign.raw('POST', '/api/v1/keys/sae-b2/enc_keys', {})).status).to.equal(401);
        // Nor may an SAE use the KME↔KME channel.
        expect(
          (await foreign.raw('POST', '/mecqkd/v1/kme/route-stock', { route: ['kme-b', 'kme-a'] })).status,
        ).to.equal(401);
      } finally {
        ghost.close();
        foreign.close();
      }
    });

    it('answers 401 to a certificate from another CA', async () => {
      const other = await writeCerts(join(tb.dir, 'other-ca'), { kmes: [], saes: ['sae-a1'] });
      const stranger = createQkd014Client({
        url: tb.kmes['kme-a']?.url as string,
        ca: readFileSync(tb.ca),
        cert: readFileSync(other.saes['sae-a1']?.cert as string),
        key: readFileSync(other.saes['sae-a1']?.key as string),
      });
      try {
        expect((await stranger.raw('GET', '/api/v1/keys/sae-b1/status')).status).to.equal(401);
      } finally {
        stranger.close();
      }
    });

    describe('the admin endpoint', () => {
      const path = '/mecqkd/v1/admin/links/kme-a--kme-b';
      const stored = async () =>
        LinksResponse.parse(await ops(tb, 'kme-a', '/mecqkd/v1/links')).links.find(
          (l) => l.id === 'kme-a--kme-b',
        )?.storedBits;

      /** POST over HTTPS as `who` (PEM files), or with no client certificate at all. */
      async function post(who: { cert: string; key: string } | undefined, body: unknown, method = 'POST') {
        const agent = new Agent({
          ca: readFileSync(tb.ca),
          ...(who ? { cert: readFileSync(who.cert), key: readFileSync(who.key) } : {}),
        });
        try {
          return await requestJson(agent, new URL(tb.kmes['kme-a']?.url as string), path, { method, body });
        } finally {
          agent.destroy();
        }
      }
      const expectProblem = (res: JsonResponse, status: number, detail: RegExp) => {
        expect(res.status, res.text).to.equal(status);
        expect(res.headers['content-type']).to.equal('application/problem+json');
        const p = Problem.parse(res.body);
        expect(p).to.include({ status, title: STATUS_CODES[status] });
        expect(p.detail).to.match(detail);
      };

      it('refuses anyone on the ops port (403), changing nothing', async () => {
        const before = await stored();
        for (const headers of [{}, { authorization: 'Bearer anything' }] as Record<string, string>[]) {
          const res = await fetch(`${tb.kmes['kme-a']?.opsUrl}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify({ storedBits: 0, enabled: false }),
          });
          expect(res.status).to.equal(403);
          expect(res.headers.get('content-type')).to.equal('application/problem+json');
          expect(Problem.parse(await res.json()).detail).to.match(
            /HTTPS port with an admin client certificate/,
          );
        }
        expect(await stored()).to.be.at.least(before as number);
        expect((await ops(tb, 'kme-a', '/healthz')) as object).to.have.property('kmeId', 'kme-a');
      });

      it('refuses no certificate and a foreign CA (401), an SAE or a KME (403), changing nothing', async () => {
        const before = await stored();
        const cut = { storedBits: 0, enabled: false };
        expectProblem(await post(undefined, cut), 401, /needs a client certificate/);
        const other = await writeCerts(join(tb.dir, 'other-admin-ca'), {
          kmes: [],
          saes: [],
          admins: ['kme-admin'],
        });
        expectProblem(await post(other.admins['kme-admin'], cut), 401, /needs a client certificate/);
        expectProblem(await post(tb.saes['sae-a1'], cut), 403, /sae-a1 is not an admin of KME kme-a/);
        const neighbour = {
          cert: join(tb.dir, 'certs', 'kme-b.pem'),
          key: join(tb.dir, 'certs', 'kme-b-key.pem'),
        };
        expectProblem(await post(neighbour, cut), 403, /kme-b is not an admin of KME kme-a/);
        // refused before the method or the body is looked at
        expectProblem(await post(tb.saes['sae-a1'], undefined, 'GET'), 403, /not an admin/);
        expect(await stored()).to.be.at.least(before as number);
        expect((await a1.encKeys('sae-b1')).keys).to.have.length(1);
      });

      it('serves the admin certificate, with its own errors as ProblemDetails', async () => {
        const ok = await post(tb.admin, { storedBits: 512_000 });
        expect(ok.status, ok.text).to.equal(200);
        expect(ok.body).to.include({ id: 'kme-a--kme-b', status: 'ACTIVE' });
        expectProblem(await post(tb.admin, undefined, 'GET'), 405, /admin takes POST/);
        expectProblem(await post(tb.admin, { storedBits: -1 }), 400, /invalid request/);
        expectProblem(await post(tb.admin, '{'), 400, /not valid JSON/);
        const unknown = await tb.adjustLink('kme-a', 'kme-x--kme-y', {}).catch((e: unknown) => e);
        expect(unknown).to.be.instanceOf(AdminError);
        expect((unknown as AdminError).status).to.equal(404);
        expect((unknown as AdminError).problem?.detail).to.equal('KME kme-a has no link kme-x--kme-y');
      });
    });

    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`speaks ${version}`, async () => {
        const s = tb.saes['sae-a1'];
        const agent = new Agent({
          ca: readFileSync(tb.ca),
          cert: readFileSync(s?.cert as string),
          key: readFileSync(s?.key as string),
          minVersion: version,
          maxVersion: version,
        });
        const protocol = await new Promise<string | null>((resolve, reject) => {
          get(`${tb.kmes['kme-a']?.url}/api/v1/keys/sae-b1/status`, { agent }, (res) => {
            res.resume();
            resolve(
              res.statusCode === 200 ? (res.socket as TLSSocket).getProtocol() : `HTTP ${res.statusCode}`,
            );
          }).on('error', reject);
        });
        agent.destroy();
        expect(protocol).to.equal(version);
      });
    }
  });

  describe('telemetry', () => {
    it('exposes Prometheus metrics per link and per SAE pair, without key material', async () => {
      const text = (await ops(tb, 'kme-a', '/metrics')) as string;
      for (const name of [
        'kme_link_stored_bits{link_id="kme-a--kme-b",peer_kme_id="kme-b",kme_id="kme-a"}',
        'kme_link_capacity_bits',
        'kme_link_secret_key_rate_bits_per_second',
        'kme_link_expected_consumption_bits_per_second',
        'kme_link_key_availability',
        'kme_link_state{link_id="kme-a--kme-e",peer_kme_id="kme-e",state="ACTIVE",kme_id="kme-a"} 1',
        'kme_keys_delivered_total{endpoint="enc_keys",master_sae_id="sae-a1",slave_sae_id="sae-b1",kme_id="kme-a"}',
        'kme_requests_total{endpoint="enc_keys",code="400",master_sae_id="sae-a1",slave_sae_id="sae-b1",kme_id="kme-a"}',
        'kme_requests_total{endpoint="enc_keys",code="503",master_sae_id="sae-a1",slave_sae_id="sae-e1",kme_id="kme-a"}',
        'kme_sae_pair_stored_bits{master_sae_id="sae-a1",slave_sae_id="sae-d1",target_kme_id="kme-d",kme_id="kme-a"}',
        'kme_sae_pair_capacity_bits{master_sae_id="sae-a3",slave_sae_id="sae-b2",target_kme_id="kme-b",kme_id="kme-a"} 1000000',
        'kme_sae_pair_secret_key_rate_bits_per_second{master_sae_id="sae-a2",slave_sae_id="sae-c1",target_kme_id="kme-c",kme_id="kme-a"} 1000000',
      ]) {
        expect(text).to.include(name);
      }
      for (const key of delivered) expect(text).to.not.include(key);
    });

    it("serves the process's V8 heap and RSS on /metrics (what `make soak` samples)", async () => {
      const text = (await ops(tb, 'kme-a', '/metrics')) as string;
      expect(Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1])).to.be.above(0);
      expect(Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)?.[1])).to.be.above(0);
    });

    it('serves link status in QKD 015 terms over mutual TLS too', async () => {
      const res = await a1.raw('GET', '/mecqkd/v1/links');
      const links = LinksResponse.parse(res.body);
      expect(links.kmeId).to.equal('kme-a');
      expect(links.links.map((l) => l.id).sort()).to.deep.equal([
        'kme-a--kme-b',
        'kme-a--kme-e',
        'kme-a--kme-f',
      ]);
      for (const l of links.links) expect(l.keyAvailability).to.be.within(0, 1);
    });

    it('never writes key material to the logs', () => {
      expect(delivered.length).to.be.above(150);
      const logs = ['p1', 'p2', 'p3']
        .map((p) => readFileSync(join(tb.dir, 'logs', `${p}.log`), 'utf8'))
        .join('\n');
      expect(logs).to.include('QKD link active');
      for (const key of delivered) expect(logs).to.not.include(key);
    });
  });
});
