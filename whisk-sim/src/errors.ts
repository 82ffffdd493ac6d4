// OpenWhisk's error texts (ErrorResponse.scala Messages) and an error type carrying the HTTP status,
// so every layer can fail with the controller's exact status and message.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const messages = {
  notFound: 'The requested resource does not exist.',
  notAuthorized: 'The supplied authentication is not authorized to access this resource.',
  notAuthorizedFor: (ns: string, name: string) =>
    `The supplied authentication is not authorized to access '${ns}/${name}'.`,
  authInvalid: 'The supplied authentication is invalid',
  authMissing: 'The resource requires authentication, which was not supplied with the request',
  conflict: 'resource already exists',
  malformed: (detail: string) => `The request content was malformed:\n${detail}`,
  illegalName: 'The name of the entity contains illegal characters.',
  execUndefined: 'exec undefined',
  unsupportedKind: (kind: string, valid: string[]) =>
    `The specified runtime '${kind}' is not supported by this platform. Valid values are: ${valid.map((k) => `'${k}'`).join(', ')}.`,
  codeMissing: (kind: string) => `'code' must be a string defined in 'exec' for '${kind}' actions`,
  deprecatedRuntime: (kind: string) =>
    `The '${kind}' runtime is no longer supported. You may read and delete but not update or invoke this action.`,
  exceedsThreshold: (what: string, value: number, unit: string, max: number) =>
    `${what} ${value} ${unit} exceeds allowed threshold of ${max} ${unit}`,
  belowThreshold: (what: string, value: number, unit: string, min: number) =>
    `${what} ${value} ${unit} below allowed threshold of ${min} ${unit}`,
  concurrencyThreshold: (value: number, max: number) =>
    `concurrency ${value} exceeds allowed threshold of ${max}`,
  badTimeout: (max: number) => `Timeout must be number of milliseconds up to ${max}.`,
  listLimit: (value: string, max: number, collection: string) =>
    `The value '${value}' is not in the range of 0 to ${max} for ${collection}.`,
  listSkip: (value: string, collection: string) =>
    `The value '${value}' is not greater than or equal to 0 for ${collection}.`,
  notInteger: (value: string, collection: string) =>
    `The value '${value}' is not an integer for ${collection}.`,
  finalParams: 'Request defines parameters that are not allowed (e.g., reserved properties).',
  payloadTooLarge: (size: number, max: number) => `Request larger than allowed: ${size} > ${max} bytes.`,
  tooManyPerMinute: (count: number, allowed: number) =>
    `Too many requests in the last minute (count: ${count}, allowed: ${allowed}).`,
  tooManyConcurrent: (count: number, allowed: number) =>
    `Too many concurrent requests in flight (count: ${count}, allowed: ${allowed}).`,
  docsWithCount: "The parameter 'docs' is not permitted with 'count'.",
  activationIdInvalid: 'The activation id is not valid.',
  activationIdLength: (n: number) => `Activation id length is ${n} but must be 32.`,
  contentType: 'The request content type must be application/json.',
  // Activation results (ActivationResponse / ContainerProxy).
  timedOut: (ms: number) => `The action exceeded its time limits of ${ms} milliseconds.`,
  timedOutInit: (ms: number) =>
    `The action exceeded its time limits of ${ms} milliseconds during initialization.`,
  containerStart: (ms: number) => `Failed to start the action container within ${ms} milliseconds.`,
  containerExited: 'The action container exited while starting.',
  exitedUnexpectedly: 'The action did not produce a valid response and exited unexpectedly.',
  memoryExhausted: 'The action exhausted its memory and was aborted.',
  notDictionary: 'The action did not return a dictionary.',
  resultTooLarge: (size: number, max: number) =>
    `The action produced a response that exceeded the allowed length: ${size} > ${max} bytes.`,
  logsTruncated: (max: number) =>
    `Logs were truncated because the total bytes size exceeds the limit of ${max} bytes.`,
} as const;
