// Abuse of Mx2 (issue 16): a client over its request budget gets 429 + Retry-After as ProblemDetails
// while other clients are served; a slow client holding many connections (slowloris) loses them and
// does not keep a normal client from its answers.
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { call, eventually, mecApp, startWorld, type World } from './support.ts';

describe('Mx2 under abuse (e2e)', function () {
  this.timeout(180_000);
  let w: World;
  before(async () => {
    w = await startWorld('lcmp-abuse', [mecApp('cardio')], {
      rateLimit: 2,
      rateBurst: 4,
      headersTimeout: 1,
      requestTimeout: 3,
      maxConnectionsPerAddress: 16,
    });
  });
  after(async () => {
    await w?.stop();
  });

  it('answers a client over its budget 429 with Retry-After, and serves another client meanwhile', async () => {
    const api = `${w.lcmp.url}/dev_app/v1`;
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => call(api, 'GET', '/app_list', { token: w.tokens.ward })),
    );
    const limited = replies.filter((r) => r.status === 429);
    expect(replies.filter((r) => r.status === 200).length).to.be.within(4, 6);
    expect(limited.length).to.be.at.least(4);
    const r = limited[0]!;
    expect(r.headers.get('content-type')).to.contain('application/problem+json');
    expect(Number(r.headers.get('retry-after'))).to.be.at.least(1);
    expect(r.json).to.include({ status: 429, title: 'Too Many Requests' });
    expect((await call(api, 'GET', '/app_list', { token: w.tokens.lab })).status).to.equal(200);
  });

  it('drops a slowloris client’s connections while a normal client still gets its answers', async () => {
    const port = Number(new URL(w.lcmp.url).port);
    const slow: Socket[] = [];
    const closed = new Set<Socket>();
    // another loopback address, so that its per-address limit is not the normal client's
    for (let i = 0; i < 60; i++) {
      const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      s.on('error', () => {});
      s.on('close', () => closed.add(s));
      s.on('connect', () => s.write('GET /dev_app/v1/app_list HTTP/1.1\r\nHost: lcmp\r\n'));
      slow.push(s);
    }
    const drip = setInterval(() => {
      for (const s of slow) if (!closed.has(s)) s.write(`X-Slow-${Date.now()}: 1\r\n`);
    }, 200);
    try {
      await eventually('the slow connections opened or refused', async () =>
        slow.every((s) => closed.has(s) || s.readyState === 'open'),
      );
      const api = `${w.lcmp.url}/dev_app/v1`;
      for (let i = 0; i < 3; i++) {
        expect((await call(api, 'GET', '/app_list', { token: w.tokens.lab })).status).to.equal(200);
      }
      await eventually(
        'every slow connection closed by the LCMP',
        async () => closed.size === slow.length,
        15_000,
      );
      const metrics = await (await fetch(`http://127.0.0.1:${w.lcmp.health.port}/metrics`)).text();
      expect(metrics).to.match(/mecqkd_lcmp_connections_refused_total (4[4-9]|[5-9]\d)/);
    } finally {
      clearInterval(drip);
      for (const s of slow) s.destroy();
    }
  });
});
