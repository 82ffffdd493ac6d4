// `make build`: bundles the `mecqkd` CLI into dist/mecqkd.mjs like the operator's (hack/bundle-binary.ts),
// so a command starts without tsx's loader compiling the SDK, operator and LCMP sources it imports.
import { join } from 'node:path';
import { bundleBinary } from '../hack/bundle-binary.ts';

await bundleBinary(
  'sdk',
  'mecqkd.mjs',
  ['common', 'crds', 'kube', 'operator', 'lcmp', 'kme-sim', 'host-sae'],
  join('src', 'cli', 'main.ts'),
);
