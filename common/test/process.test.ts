import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';

describe('common/process signal hooks', () => {
  it('leave SIGINT to a program that handles it: its graceful stop runs and it exits 0', async function () {
    this.timeout(30_000);
    const p = spawn(process.execPath, [
      '--import',
      'tsx',
      join(import.meta.dirname, 'fixtures', 'graceful-sigint.ts'),
    ]);
    let out = '';
    let signalled = false;
    p.stdout.on('data', (d: Buffer) => {
      out += String(d);
      if (out.includes('ready') && !signalled) signalled = p.kill('SIGINT');
    });
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    expect(out).to.contain('stopped gracefully');
    expect(code).to.equal(0);
    const sleeper = Number(/ready (\d+)/.exec(out)?.[1]);
    expect(() => process.kill(sleeper, 0)).to.throw(/ESRCH/);
  });
});
