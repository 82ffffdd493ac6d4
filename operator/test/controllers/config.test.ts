import { expect } from 'chai';
import { helpText, parseOperatorConfig } from '../../src/config.ts';

describe('operator configuration', () => {
  it('takes flags over environment over defaults', () => {
    const c = parseOperatorConfig(['--workers', '4', '--policy=weighted-random'], {
      MECQKD_WORKERS: '8',
      MECQKD_REDIS_URL: 'redis://r:1',
    });
    expect(c).to.include({
      workers: 4,
      policy: 'weighted-random',
      redisUrl: 'redis://r:1',
      leaderElect: true,
    });
  });

  it('names the flag of a bad value', () => {
    expect(() => parseOperatorConfig(['--max-load-typo', '1'], {})).to.throw('unknown flag --max-load-typo');
    // a value that itself holds '=' (a query string) is kept whole
    expect(
      parseOperatorConfig(['--prometheus-url=http://127.0.0.1:9090/p?a=b&c=d'], {}).prometheusUrl,
    ).to.equal('http://127.0.0.1:9090/p?a=b&c=d');
    expect(() => parseOperatorConfig(['--workers', '0'], {})).to.throw(/--workers: Too small/);
    expect(() => parseOperatorConfig(['--telemetry', 'carrier-pigeon'], {})).to.throw(/--telemetry/);
  });

  it('serves /healthz, /readyz and /metrics on every interface unless told otherwise', () => {
    expect(parseOperatorConfig([], {}).healthAddress).to.equal('0.0.0.0');
    expect(parseOperatorConfig([], { MECQKD_HEALTH_ADDRESS: '127.0.0.1' }).healthAddress).to.equal(
      '127.0.0.1',
    );
    expect(parseOperatorConfig(['--health-address', '::1'], {}).healthAddress).to.equal('::1');
    expect(helpText()).to.contain('--health-address').and.to.contain('[MECQKD_HEALTH_ADDRESS]');
  });

  it('documents every flag with its environment variable', () => {
    expect(helpText())
      .to.contain('--max-migrations-per-round')
      .and.to.contain('[MECQKD_MAX_MIGRATIONS_PER_ROUND]');
  });

  it('refuses insecure hosts unless --allow-insecure-hosts is given, as a bare flag or with a value', () => {
    expect(parseOperatorConfig([], {}).allowInsecureHosts).to.equal(false);
    expect(parseOperatorConfig(['--allow-insecure-hosts'], {}).allowInsecureHosts).to.equal(true);
    const c = parseOperatorConfig(['--allow-insecure-hosts', '--workers', '2'], {});
    expect(c).to.include({ allowInsecureHosts: true, workers: 2 });
    expect(parseOperatorConfig(['--allow-insecure-hosts', 'false'], {}).allowInsecureHosts).to.equal(false);
    expect(parseOperatorConfig([], { MECQKD_ALLOW_INSECURE_HOSTS: 'true' }).allowInsecureHosts).to.equal(
      true,
    );
    expect(helpText()).to.contain('--allow-insecure-hosts');
  });
});
