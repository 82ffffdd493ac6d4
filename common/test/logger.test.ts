import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { createLogger } from '../src/logger.ts';

function capture(log: winston.Logger): () => Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  log.clear();
  log.add(new winston.transports.Stream({ stream }));
  return () => lines;
}

describe('logger', () => {
  it('writes JSON with the component and the object key, and redacts secret-bearing fields', () => {
    const log = createLogger('test', 'info');
    const lines = capture(log);
    log.info('Placed AppContext', {
      key: 'ns/abc',
      token: 'Bearer s3cr3t',
      keyMaterial: 'AAAA',
      auth: 'u:p',
    });
    const [line] = lines();
    expect(line).to.include({ component: 'test', key: 'ns/abc', message: 'Placed AppContext' });
    expect(line).to.include({ token: '[redacted]', keyMaterial: '[redacted]', auth: '[redacted]' });
    expect(JSON.stringify(line)).to.not.contain('s3cr3t');
  });
});

describe('logger levels', () => {
  it('writes enabled levels, from children too, and never formats a disabled one', () => {
    const log = createLogger('test', 'warn');
    const lines = capture(log);
    let formatted = 0;
    const counted = {
      toJSON() {
        formatted++;
        return 'x';
      },
    };
    log.info('skipped', { counted });
    log.debug('skipped', { counted });
    log.child({ key: 'ns/a' }).info('skipped', { counted });
    log.warn('kept', { counted });
    log.child({ key: 'ns/b' }).error('kept too');
    expect(lines().map((l) => l.message)).to.deep.equal(['kept', 'kept too']);
    expect(lines()[1]).to.include({ key: 'ns/b' });
    expect(formatted).to.equal(1);
    log.level = 'debug';
    log.debug('now on');
    expect(lines().map((l) => l.message)).to.include('now on');
  });
});

describe('logger to a file', () => {
  it('writes its JSON lines, redacted, to the file instead of stderr', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'mecqkd-log-'));
    const file = join(dir, 'client.log');
    const log = createLogger('client', 'info', { file });
    log.info('Invocation', { traceId: 'abc', token: 'x' });
    const { waitUntil } = await import('../src/process.ts');
    const read = () => readFileSync(file, { encoding: 'utf8', flag: 'a+' }).trim();
    await waitUntil('the line in the file', async () => read() !== '', { timeoutMs: 10_000 });
    log.end();
    const line = JSON.parse(read());
    expect(line).to.include({
      component: 'client',
      message: 'Invocation',
      traceId: 'abc',
      token: '[redacted]',
    });
    rmSync(dir, { recursive: true, force: true });
  });
});
