import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../../../voting/gateway/token-verifier.js';

const SECRET = 'unit-test-secret-of-at-least-32-bytes-0123';
const key = new TextEncoder().encode(SECRET);
const nowSec = Math.floor(Date.now() / 1000);
const verifier = new TokenVerifier({ algorithm: 'HS256', key, leewaySec: 5 });
const sign = (claims: JWTPayload): Promise<string> => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);

describe('TokenVerifier: the code a refused token gets', () => {
  it.each([
    ['nbf in the future', { nbf: nowSec + 600 }, 'token-not-yet-valid'],
    ['exp in the past', { exp: nowSec - 60 }, 'token-expired'],
    ['nbf in the future and exp in the past (nbf is checked first)', { nbf: nowSec + 600, exp: nowSec - 60 }, 'token-not-yet-valid'],
    // Not a number: a broken token, not one that will be valid later.
    ['nbf not a number', { nbf: 'soon' }, 'token-invalid'],
    ['iat not a number', { iat: 'now' }, 'token-invalid'],
    ['exp not a number', { exp: 'later' }, 'token-invalid'],
    ['iat in the future (not checked: no max age)', { iat: nowSec + 600 }, undefined],
  ] as const)('%s', async (_name, claims, code) => {
    const token = await sign({ sub: 'v1', exp: nowSec + 600, ...(claims as JWTPayload) });
    const result = await verifier.verify(`Bearer ${token}`, 'e1');
    expect(result.ok ? undefined : result.error).toBe(code);
  });
});
