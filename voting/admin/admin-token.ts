import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../runtime/errors.js';

export const MIN_ADMIN_TOKEN_LENGTH = 24;

/** The admin bearer token, from a file or env VOTESTREAM_ADMIN_TOKEN (never a flag's value: it would show in `ps`). */
export async function loadAdminToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const token = file !== undefined ? (await readFile(file, 'utf8')).trim() : env.VOTESTREAM_ADMIN_TOKEN;
  if (token === undefined || token === '') throw new ConfigError('the admin needs a token: --admin-token-file F or env VOTESTREAM_ADMIN_TOKEN');
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) throw new ConfigError(`the admin token must have at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
  return token;
}

/**
 * Compares `Authorization: Bearer <t>` with the admin token in constant time: both sides are hashed
 * first, so neither the content nor the length of the expected token leaks through timing.
 */
export function bearerMatches(authorization: string, expected: string): boolean {
  const given = authorization.startsWith('Bearer ') ? authorization.slice(7) : '';
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}
