// whisk-sim's /metrics carries the process's own metrics beside OpenWhisk's names: `make soak` reads
// its V8 heap there to tell heap growth from RSS growth.
import { expect } from 'chai';
import { startServer, type WhiskSim } from '../src/server.ts';

describe('whisk-sim process metrics', () => {
  let sim: WhiskSim;
  before(async () => {
    sim = await startServer({ port: 0, logLevel: 'silent' });
  });
  after(() => sim?.close());

  it("serves the V8 heap and RSS on /metrics next to OpenWhisk's gauges", async () => {
    const text = await (await fetch(`${sim.url}/metrics`)).text();
    expect(text).to.match(/^gauge_loadbalancer_totalHealthyInvokerManaged_counter\{controller_id="0"\} 1$/m);
    expect(Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1])).to.be.above(0);
    expect(Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)?.[1])).to.be.above(0);
  });
});
