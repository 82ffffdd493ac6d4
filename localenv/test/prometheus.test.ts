import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from '@mecqkd/common/process';
import { expect } from 'chai';
import { startPrometheus } from '../src/prometheus.ts';

function exporter(value: number): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE demo_value gauge\ndemo_value ${value}\n`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const address = (s: Server) => `127.0.0.1:${(s.address() as AddressInfo).port}`;

async function query(url: string, promql: string) {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return body.data.result;
}

describe('localenv: prometheus', function () {
  this.timeout(60_000);
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it('scrapes its targets with their labels, follows target changes, and stops', async () => {
    const a = await exporter(1);
    const b = await exporter(2);
    servers.push(a, b);
    const prom = await startPrometheus({
      jobs: [{ job: 'demo', targets: [{ address: address(a), labels: { host: 'host-1' } }] }],
    });
    try {
      await waitUntil('host-1 scraped', async () => (await query(prom.url, 'demo_value')).length === 1);
      const [series] = await query(prom.url, 'demo_value');
      expect(series?.metric).to.include({ host: 'host-1', job: 'demo' });
      expect(series?.value[1]).to.equal('1');

      prom.setTargets('demo', [
        { address: address(a), labels: { host: 'host-1' } },
        { address: address(b), labels: { host: 'host-2' } },
      ]);
      await waitUntil(
        'host-2 scraped',
        async () => (await query(prom.url, 'demo_value{host="host-2"}')).length === 1,
      );
      expect(() => prom.setTargets('other', [])).to.throw(/no job other/);
    } finally {
      await prom.stop();
    }
    const down = await fetch(`${prom.url}/-/ready`).then(
      () => false,
      () => true,
    );
    expect(down, 'prometheus still answers after stop').to.be.true;
  });
});
