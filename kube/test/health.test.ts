import { expect } from 'chai';
import { type HealthServer, startHealthServer } from '../src/health.ts';
import { WorkQueue } from '../src/workqueue.ts';

describe('runtime/health', () => {
  let server: HealthServer;
  before(async () => {
    server = await startHealthServer(0);
  });
  after(() => server.close());
  const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);

  it('is ready only when every readiness check passes', async () => {
    let synced = false;
    server.addReadyzCheck('informers', () => synced);
    const before = await get('/readyz');
    expect(before.status).to.equal(500);
    expect(await before.text()).to.include('[-]informers failed');
    synced = true;
    const after = await get('/readyz');
    expect(after.status).to.equal(200);
    expect(await after.text()).to.include('[+]informers ok');
  });

  it('fails liveness when a check throws', async () => {
    expect((await get('/healthz')).status).to.equal(200);
    server.addHealthzCheck('leader', () => {
      throw new Error('renewal stuck');
    });
    expect((await get('/healthz')).status).to.equal(500);
  });

  it('binds to the address it is given: 0.0.0.0 serves every interface, loopback included', async () => {
    const everywhere = await startHealthServer(0, '0.0.0.0');
    try {
      expect(everywhere.address).to.equal('0.0.0.0');
      expect((await fetch(`http://127.0.0.1:${everywhere.port}/healthz`)).status).to.equal(200);
    } finally {
      await everywhere.close();
    }
    expect(server.address).to.equal('127.0.0.1');
  });

  it('serves the runtime metrics', async () => {
    const q = new WorkQueue({ name: 'health-test' });
    q.add('a');
    const res = await get('/metrics');
    expect(res.status).to.equal(200);
    expect(await res.text()).to.include('workqueue_depth{name="health-test"} 1');
    q.shutDown();
    expect((await get('/nope')).status).to.equal(404);
  });
});
