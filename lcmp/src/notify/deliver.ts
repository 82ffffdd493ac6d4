// One notification POST to a checked callback, connected to the address the SSRF check approved
// (the name is not resolved again), with a deadline, no redirects followed. Anything but 2xx fails.
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import type { CheckedTarget } from '../ssrf.ts';

function pinned(target: CheckedTarget): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
}

export async function postNotification(
  target: CheckedTarget,
  body: unknown,
  timeoutMs: number,
): Promise<void> {
  const agent = new Agent({ connect: { lookup: pinned(target), timeout: timeoutMs }, pipelining: 0 });
  try {
    const res = await request(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/problem+json, application/json' },
      body: JSON.stringify(body),
      dispatcher: agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode >= 300)
      throw new Error(`the device app answered ${res.statusCode}`);
  } finally {
    await agent.close();
  }
}
