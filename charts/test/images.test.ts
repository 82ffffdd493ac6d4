// The images' Dockerfiles share their build stage word for word: a layer cache then runs its npm
// install and bundling once for all five images (make images), and a drifted copy would silently
// run them five times. The stage must also install from every workspace's package.json (npm reads
// them all with the lockfile) and bundle exactly the components that have a Dockerfile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { CHART_DIR } from '../src/helm.ts';

const REPO = join(CHART_DIR, '..', '..');
const COMPONENTS = ['operator', 'lcmp', 'kme-sim', 'whisk-sim', 'host-sae'];
const BEGIN = '# --- shared build stage';
const END = '# --- end of the shared build stage';

const sharedStage = (component: string): string => {
  const text = readFileSync(join(REPO, component, 'Dockerfile'), 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  expect(start, `${component}/Dockerfile: no "${BEGIN}"`).to.be.greaterThan(-1);
  expect(end, `${component}/Dockerfile: no "${END}"`).to.be.greaterThan(start);
  return text.slice(start, end);
};

describe('component Dockerfiles', () => {
  it('share one build stage, word for word', () => {
    const [first, ...rest] = COMPONENTS;
    const stage = sharedStage(first as string);
    for (const c of rest)
      expect(sharedStage(c), `${c}/Dockerfile's shared stage differs from ${first}'s`).to.equal(stage);
  });

  it("copy every workspace's package.json before the install and install the imaged components", () => {
    const stage = sharedStage('operator');
    const workspaces: string[] = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).workspaces;
    const copied = [...stage.matchAll(/^COPY (\S+)\/package\.json \1\/$/gm)].map((m) => m[1]);
    expect(copied).to.have.members(workspaces);
    const installed = [...stage.matchAll(/-w (\S+)/g)].map((m) => m[1]);
    expect(installed).to.have.members(COMPONENTS);
  });

  it('each copies its own bundle out of the shared stage and runs it', () => {
    for (const c of COMPONENTS) {
      const text = readFileSync(join(REPO, c, 'Dockerfile'), 'utf8');
      expect(text, c).to.include(`COPY --from=build /out/${c}/ ./`);
      expect(text, c).to.include(`ENTRYPOINT ["node", "--enable-source-maps", "${c}/dist/${c}.mjs"]`);
      expect(text, c).to.match(/^USER 10001:10001$/m);
    }
    const bundler = readFileSync(join(REPO, 'hack', 'image-bundles.ts'), 'utf8');
    for (const c of COMPONENTS)
      expect(bundler, `hack/image-bundles.ts bundles ${c}`).to.match(new RegExp(`'?${c}'?: \\{`));
  });
});
