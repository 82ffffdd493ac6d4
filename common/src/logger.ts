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

export function createLogger(component: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { component },
    format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
    silent: level === 'silent',
  });
}
