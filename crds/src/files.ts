import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { GROUP } from './common.ts';
import { buildCrd } from './crd.ts';
import { KINDS } from './resources.ts';

const HEADER = '# Generated from the zod schemas in crds/src by `make crds`. Do not edit.\n';

/** The CRD YAML files, as `make crds` writes them. */
export function crdFiles(): { file: string; text: string }[] {
  return KINDS.map((kind) => ({
    file: `${GROUP}_${kind.plural}.yaml`,
    text: HEADER + toKubeYaml(buildCrd(kind)),
  }));
}
