// YAML for kubectl and the apiserver, whose parser follows YAML 1.1: there, bare OFF, on, yes, y
// and n are booleans, so such strings must be quoted or an enum value like "OFF" arrives as false.
import { stringify } from 'yaml';

export function toKubeYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, version: '1.1' });
}
