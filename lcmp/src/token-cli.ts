// `lcmp token`: a lab's way to get an access token — the client credentials grant against an LCMP
// token endpoint; the token goes to stdout and nowhere else. `lcmp hash-secret`: the scrypt hash
// to put into a client registration Secret.
import { readFileSync } from 'node:fs';
import { parseSettings } from '@mecqkd/common/cli-config';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { hashSecret } from './auth/secret-hash.ts';
import { TOKEN_PATH } from './server.ts';

const tokenArgs = z.object({
  url: z.url().describe('base URL of the LCMP, e.g. https://lcmp.example:8443'),
  clientId: z.string().min(1).describe('client id of the registration'),
  clientSecretFile: z.string().optional().describe('file holding the client secret; stdin when absent'),
  ca: z.string().optional().describe('CA (PEM) that signed the LCMP certificate'),
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function tokenCommand(argv: string[]): Promise<string> {
  const a = parseSettings(tokenArgs, argv, {});
  const secret = (a.clientSecretFile ? readFileSync(a.clientSecretFile, 'utf8') : await readStdin()).trim();
  const form = (s: string) => encodeURIComponent(s);
  const basic = Buffer.from(`${form(a.clientId)}:${form(secret)}`).toString('base64');
  const dispatcher = new Agent(a.ca ? { connect: { ca: readFileSync(a.ca) } } : {});
  try {
    const res = await request(`${a.url.replace(/\/$/, '')}${TOKEN_PATH}`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
      dispatcher,
    });
    const body = (await res.body.json()) as {
      access_token?: string;
      error?: string;
      error_description?: string;
    };
    if (res.statusCode !== 200 || !body.access_token)
      throw new Error(
        `token endpoint answered ${res.statusCode}: ${body.error ?? ''} ${body.error_description ?? ''}`,
      );
    return body.access_token;
  } finally {
    await dispatcher.close();
  }
}

export async function hashSecretCommand(): Promise<string> {
  const secret = (await readStdin()).trim();
  if (secret.length < 16) throw new Error('a client secret needs at least 16 characters');
  return hashSecret(secret);
}
