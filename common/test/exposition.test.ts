import { expect } from 'chai';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parseExposition } from '../src/exposition.ts';

describe('telemetry: exposition parser', () => {
  it('reads names, labels with escapes, special values and timestamps', () => {
    const series = parseExposition(
      [
        '# HELP x_total A counter',
        '# TYPE x_total counter',
        'x_total{a="1",b="q\\"uo\\\\te\\nline"} 3 1700000000000',
        'up 1',
        'y{le="+Inf",} +Inf',
        'z NaN',
        'w -1.5e3',
        '',
      ].join('\n'),
    );
    expect(series[0]).to.deep.equal({
      name: 'x_total',
      labels: { a: '1', b: 'q"uo\\te\nline' },
      value: 3,
      timestamp: 1700000000000,
    });
    expect(series[1]).to.deep.equal({ name: 'up', labels: {}, value: 1 });
    expect(series[2]?.value).to.equal(Number.POSITIVE_INFINITY);
    expect(series[2]?.labels).to.deep.equal({ le: '+Inf' });
    expect(series[3]?.value).to.be.NaN;
    expect(series[4]?.value).to.equal(-1500);
  });

  it('round-trips what prom-client writes', async () => {
    const registry = new Registry();
    const g = new Gauge({ name: 'g', help: 'h', labelNames: ['host'], registers: [registry] });
    g.set({ host: 'a "b"' }, 0.25);
    new Counter({ name: 'c_total', help: 'h', registers: [registry] }).inc(7);
    const hist = new Histogram({ name: 'h_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] });
    hist.observe(0.5);
    // prom-client writes NaN as "Nan" (Prometheus reads special values case-insensitively)
    new Gauge({ name: 'unset_ratio', help: 'h', registers: [registry] }).set(Number.NaN);
    const series = parseExposition(await registry.metrics());
    expect(series.find((s) => s.name === 'unset_ratio')?.value).to.be.NaN;
    expect(series.find((s) => s.name === 'g')).to.deep.equal({
      name: 'g',
      labels: { host: 'a "b"' },
      value: 0.25,
    });
    expect(series.find((s) => s.name === 'c_total')?.value).to.equal(7);
    expect(
      series.filter((s) => s.name === 'h_seconds_bucket').map((s) => [s.labels.le, s.value]),
    ).to.deep.equal([
      ['0.1', 0],
      ['1', 1],
      ['+Inf', 1],
    ]);
  });

  it('names the line of malformed input', () => {
    expect(() => parseExposition('ok 1\n{x="1"} 2')).to.throw(/line 2: expected a metric name/);
    expect(() => parseExposition('m{x="1} 2')).to.throw(/line 1: unterminated label value/);
    expect(() => parseExposition('m{x=1} 2')).to.throw(/line 1: expected "/);
    expect(() => parseExposition('m abc')).to.throw(/line 1: bad sample value "abc"/);
    expect(() => parseExposition('m')).to.throw(/line 1: bad sample value ""/);
    expect(() => parseExposition('m nan2')).to.throw(/line 1: bad sample value "nan2"/);
    expect(() => parseExposition('m constructor')).to.throw(/line 1: bad sample value "constructor"/);
  });
});
