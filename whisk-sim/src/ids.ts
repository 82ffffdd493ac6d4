// 32 lowercase hex characters, the shape of OpenWhisk activation and transaction ids. Built from
// randomUUID, whose entropy Node draws in batches: randomBytes per request costs a syscall-backed
// RNG call, which showed in the profile of warm invocations.
import { randomUUID } from 'node:crypto';

export function randomId(): string {
  return randomUUID().replaceAll('-', '');
}
