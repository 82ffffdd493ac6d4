// Requests that Node's HTTP parser refuses before any handler runs (a header value with control
// bytes, a header name with a space, a broken request line) still get OpenWhisk's error envelope,
// so a client learns what was wrong instead of reading an empty 400 (found by schema fuzzing).
import { connect } from 'node:net';
import { expect } from 'chai';
import { startServer, type WhiskSim } from '../src/server.ts';

function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (c) => {
      data += c;
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('whisk-sim: requests the HTTP parser refuses', () => {
  let sim: WhiskSim;
  before(async () => {
    sim = await startServer({ port: 0, logLevel: 'silent' });
  });
  after(() => sim?.close());

  for (const [what, request] of [
    ['a control byte in a header value', 'GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nX-A: a\x07b\r\n\r\n'],
    ['a space in a header name', 'GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n'],
    ['a broken request line', 'GET\r\n\r\n'],
  ]) {
    it(`answers ${what} with a JSON 400 saying so`, async () => {
      const reply = await raw(sim.port, request!);
      const [head, body] = reply.split('\r\n\r\n');
      expect(head).to.match(/^HTTP\/1\.1 400 /);
      expect(head).to.match(/content-type: application\/json/i);
      const json = JSON.parse(body!) as { error: string; code: string };
      expect(json.error).to.match(/malformed/i);
      expect(json.code).to.be.a('string');
    });
  }
});
