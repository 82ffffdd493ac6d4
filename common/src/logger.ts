// Structured JSON logs for every mecqkd process. Secrets never reach a log line: known secret-bearing
// fields are redacted here as a last line of defence, but callers must not pass key material at all.
// (`key` is not among them: it names the object a log line is about, as in controller-runtime.)
import winston from 'winston';

const SECRET_FIELDS = new Set([
  'keyMaterial',
  'privateKey',
  'password',
  'token',
  'authorization',
  'secret',
  'auth',
  'apiKey',
]);

const redact = winston.format((info) => {
  for (const field of Object.keys(info)) {
    if (SECRET_FIELDS.has(field)) info[field] = '[redacted]';
  }
  return info;
});

export type Logger = winston.Logger;

/** `file`: write there instead of stderr (a process whose terminal shows something else, e.g. the demo). */
export function createLogger(
  component: string,
  level = process.env.LOG_LEVEL ?? 'info',
  opts: { file?: string } = {},
): Logger {
  const logger = winston.createLogger({
    level,
    defaultMeta: { component },
    format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.json()),
    transports: [
      opts.file
        ? new winston.transports.File({ filename: opts.file })
        : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }),
    ],
    silent: level === 'silent',
  });
  return skipDisabledLevels(logger);
}

/**
 * winston runs the whole format chain (redaction, timestamp, JSON) on every entry and only then lets
 * the transport drop the levels that are off: a debug line on a hot path cost as much as a written
 * one. Each level method now returns at once when its level is off (children inherit the methods).
 */
function skipDisabledLevels(logger: Logger): Logger {
  const methods = logger as unknown as Record<string, (this: Logger, ...args: unknown[]) => Logger>;
  for (const name of Object.keys(logger.levels)) {
    const write = methods[name];
    if (!write) continue;
    methods[name] = function (this: Logger, ...args: unknown[]) {
      return this.isLevelEnabled(name) ? write.apply(this, args) : this;
    };
  }
  return logger;
}
