// The workload's small judges: which answer of an invocation is wrong (including one from a host the
// context is not on), and which host the load mover surges.
import { expect } from 'chai';
import { busiestHost } from '../src/load-mover.ts';
import { judge } from '../src/workload.ts';

describe('chaos workload judges', () => {
  const want = { app: 'cardio', sum: 7, echo: 'x', at: 'http://127.0.0.1:1001' };

  it('accepts the expected answer from the expected host only', () => {
    expect(judge({ ...want }, want)).to.equal(undefined);
    expect(judge({ ...want, sum: 8 }, want)).to.match(/expected cardio 7, got cardio 8/);
    expect(judge({ ...want, app: 'covid' }, want)).to.match(/got covid/);
    expect(judge({ ...want, at: 'http://127.0.0.1:1002' }, want)).to.match(
      /answered by the OpenWhisk at .*1002/,
    );
    expect(judge({ app: 'cardio', sum: 7, echo: 'x' }, want)).to.match(/answered by/);
  });

  it('surges the host serving the most contexts', () => {
    expect(busiestHost([])).to.equal(undefined);
    expect(busiestHost([{ host: 'host-2' }, { host: 'host-1' }, { host: 'host-2' }, {}])).to.equal('host-2');
    expect(busiestHost([{ host: 'host-2' }, { host: 'host-1' }])).to.equal('host-1');
  });
});
