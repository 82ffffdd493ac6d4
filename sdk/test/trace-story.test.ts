import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { contextStory, formatStory, readRunLogs } from '../src/observe/trace-story.ts';

describe('mecqkd trace: a context story from run logs', () => {
  const ID = 'c0de0000000000000000000000000001';
  const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mecqkd-trace-'));
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'host-sae', 'SAE_HOST_1'), { recursive: true });
    const j = (o: object) => JSON.stringify(o);
    writeFileSync(
      join(dir, 'logs', 'lcmp.log'),
      [
        j({
          timestamp: '2026-12-01T10:00:00.000Z',
          component: 'lcmp',
          level: 'info',
          message: 'Request',
          traceId: TRACE,
          route: '/dev_app/v1/app_contexts',
          status: 201,
        }),
        j({
          timestamp: '2026-12-01T10:00:00.100Z',
          component: 'lcmp',
          level: 'info',
          message: 'Request',
          traceId: 'f'.repeat(32),
        }),
        'not json at all',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'logs', 'operator.log'),
      j({
        timestamp: '2026-12-01T10:00:00.050Z',
        component: 'operator',
        level: 'info',
        message: 'Updated AppContext status',
        key: `hospital/${ID}`,
        traceId: TRACE,
        phase: 'Placed',
        host: 'host-1',
      }),
    );
    writeFileSync(
      join(dir, 'host-sae', 'SAE_HOST_1', 'host-sae.log'),
      j({
        timestamp: '2026-12-01T10:00:01.000Z',
        component: 'host-sae',
        level: 'info',
        message: 'Derived keys for an invocation',
        traceId: TRACE,
        contextId: ID,
        keyId: 'k1',
        seq: 0,
      }),
    );
    writeFileSync(
      join(dir, 'logs', 'activations-host-1.log'),
      `2026-12-01T10:00:01.010Z stdout: ${j({ timestamp: '2026-12-01T10:00:01.010Z', component: 'action-wrapper', level: 'info', message: 'Invocation', traceId: TRACE, contextId: ID, seq: 0 })}`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('collects the lines naming the context and those of its trace, in time order', () => {
    const story = contextStory(readRunLogs(dir), ID);
    expect(story.traceIds).to.deep.equal([TRACE]);
    expect(story.lines.map((l) => [l.component, l.message])).to.deep.equal([
      ['lcmp', 'Request'],
      ['operator', 'Updated AppContext status'],
      ['host-sae', 'Derived keys for an invocation'],
      ['action-wrapper', 'Invocation'],
    ]);
    const text = formatStory(story);
    expect(text).to.contain(`trace ${TRACE}`);
    expect(text).to.match(
      /\+0\.050s\s+operator\s+Updated AppContext status\s+key=hospital\/c0de.* phase=Placed/,
    );
    expect(text).to.not.contain('ffffffff');
  });

  it('says so when no line is about the context', () => {
    expect(formatStory(contextStory(readRunLogs(dir), 'ab'.repeat(16)))).to.contain('no log lines');
  });
});
