import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const BIN = fileURLToPath(new URL('../bin/kme-sim.js', import.meta.url));
const run = (args: string[]) => promisify(execFile)(process.execPath, [BIN, ...args]);

describe('kme-sim command line', function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('prints usage with --help', async () => {
    const { stdout } = await run(['--help']);
    expect(stdout).to.include('kme-sim serve --config FILE').and.include('kme-sim certs --out DIR');
  });

  it('writes a CA, a KME server+client certificate and an SAE client certificate', async () => {
    const out = tempDir('kme-certs-');
    await run(['certs', '--out', out, '--kme', 'kme-x', '--sae', 'sae-y', '--dns', 'kme.example']);
    const ca = new X509Certificate(readFileSync(join(out, 'ca.pem')));
    const kme = new X509Certificate(readFileSync(join(out, 'kme-x.pem')));
    const sae = new X509Certificate(readFileSync(join(out, 'sae-y.pem')));
    expect(kme.subject).to.include('CN=kme-x');
    expect(kme.subjectAltName).to.include('DNS:kme.example').and.include('IP Address:127.0.0.1');
    expect(kme.checkIssued(ca) && sae.checkIssued(ca)).to.equal(true);
    expect(sae.subject).to.include('CN=sae-y');
    expect(existsSync(join(out, 'sae-y-key.pem'))).to.equal(true);
  });

  it('refuses an invalid config with the reason', async () => {
    const dir = tempDir('kme-config-');
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'kmes:\n  - id: kme-a\n    port: 99999\n    tls: {cert: a, key: b, ca: c}\n');
    const err = await run(['serve', '--config', file]).catch((e: { code: number; stderr: string }) => e);
    expect(err).to.include({ code: 2 });
    expect((err as { stderr: string }).stderr).to.match(/bad\.yaml.*\n?.*port/s);
  });
});
