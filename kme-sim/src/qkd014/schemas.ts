// ETSI GS QKD 014 V1.1.1 data formats (clause 6, Tables 9–13), written from the PDF tables rather than the
// third-party OpenAPI file (see ../shared/specs/qkd014/SOURCE.md for why that file is not trusted).
import { z } from 'zod';

/** Extension members are vendor-named objects with values of any JSON type (clause 6, Annex A). */
export const Extension = z.record(z.string(), z.unknown());
export type Extension = z.infer<typeof Extension>;

/** Table 9. */
export const Status = z.object({
  source_KME_ID: z.string(),
  target_KME_ID: z.string(),
  master_SAE_ID: z.string(),
  slave_SAE_ID: z.string(),
  key_size: z.int(),
  stored_key_count: z.int(),
  max_key_count: z.int(),
  max_key_per_request: z.int(),
  max_key_size: z.int(),
  min_key_size: z.int(),
  max_SAE_ID_count: z.int(),
  status_extension: Extension.optional(),
});
export type Status = z.infer<typeof Status>;

/** Table 10. Strict: a member the spec does not define is a malformed request. */
export const KeyRequest = z.strictObject({
  number: z.int().positive().optional(),
  size: z.int().positive().optional(),
  additional_slave_SAE_IDs: z.array(z.string()).optional(),
  extension_mandatory: z.array(Extension).optional(),
  extension_optional: z.array(Extension).optional(),
});
export type KeyRequest = z.infer<typeof KeyRequest>;

/** Table 11. */
export const Key = z.object({
  key_ID: z.uuid(),
  key_ID_extension: Extension.optional(),
  key: z.base64(),
  key_extension: Extension.optional(),
});
export const KeyContainer = z.object({
  keys: z.array(Key),
  key_container_extension: Extension.optional(),
});
export type KeyContainer = z.infer<typeof KeyContainer>;

/** Table 12. */
export const KeyIds = z.strictObject({
  key_IDs: z
    .array(z.strictObject({ key_ID: z.string(), key_ID_extension: Extension.optional() }))
    .min(1, 'key_IDs must not be empty'),
  key_IDs_extension: Extension.optional(),
});
export type KeyIds = z.infer<typeof KeyIds>;

/** Table 13. */
export const ErrorBody = z.object({
  message: z.string(),
  details: z.array(z.record(z.string(), z.unknown())).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
