// `make build`: bundles the operator into dist/operator.mjs (hack/bundle-binary.ts says how).
import { bundleBinary } from '../hack/bundle-binary.ts';

await bundleBinary('operator', 'operator.mjs', ['common', 'crds', 'kube', 'host-sae', 'sdk', 'kme-sim']);
