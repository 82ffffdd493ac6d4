// `make build`: bundles the LCMP into dist/lcmp.mjs like the operator's (hack/bundle-binary.ts), so
// it starts without tsx.
import { bundleBinary } from '../hack/bundle-binary.ts';

await bundleBinary('lcmp', 'lcmp.mjs', ['common', 'crds', 'kube', 'operator']);
