import { expect } from 'chai';
import { KeyedLock } from '../../src/controllers/keyed-lock.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('KeyedLock', () => {
  it('lets shared holders of a key run together', async () => {
    const lock = new KeyedLock();
    let inside = 0;
    let most = 0;
    await Promise.all(
      [1, 2, 3].map(() =>
        lock.shared('k', async () => {
          most = Math.max(most, ++inside);
          await tick();
          inside--;
        }),
      ),
    );
    expect(most).to.equal(3);
  });

  it('runs an exclusive section alone, after the shared ones before it and before those after it', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const section = (name: string) => async () => {
      log.push(`+${name}`);
      await tick();
      log.push(`-${name}`);
    };
    await Promise.all([
      lock.shared('k', section('a')),
      lock.shared('k', section('b')),
      lock.exclusive('k', section('x')),
      lock.shared('k', section('c')),
    ]);
    expect(log.indexOf('+x')).to.be.greaterThan(Math.max(log.indexOf('-a'), log.indexOf('-b')));
    expect(log.indexOf('+c')).to.be.greaterThan(log.indexOf('-x'));
  });

  it('keeps keys independent and releases after a throw', async () => {
    const lock = new KeyedLock();
    await lock.exclusive('a', async () => {
      await lock.exclusive('b', async () => {});
    });
    await lock.exclusive('a', () => Promise.reject(new Error('boom'))).catch(() => {});
    expect(await lock.exclusive('a', async () => 'free')).to.equal('free');
  });
});
