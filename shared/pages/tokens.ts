/**
 * Signed page tokens: the `TOKEN` of the public pages' links (`/u/TOKEN`,
 * `/learn/TOKEN`, `/exit/TOKEN`, see docs/pages.md). A token names one
 * customer and one purpose for a limited time, and is signed with HMAC-SHA256,
 * so nobody can make one for another customer or reuse it for another page.
 *
 * Format (ASCII, URL-safe): `v1.<kid>.<claims>.<mac>` where `claims` is the
 * base64url of a small JSON object `{p, c, iat, exp}` (purpose, customer id,
 * issued-at and expiry in seconds since the epoch), `kid` names the key that
 * signed it, and `mac` is the base64url HMAC-SHA256 of `v1.<kid>.<claims>`
 * under that key. The claims are signed, not encrypted: anyone holding the
 * link can read the customer id and the times (never an email address or a name).
 *
 * Verification compares the MAC text in constant time before any claim is
 * decoded. Keys rotate: the current key signs, older keys are still accepted
 * until their `acceptUntil`. Every failure is the same typed value with a
 * reason for logs and metrics and nothing else: no claim of a bad token is
 * ever returned. Pure: keys and clock come from the caller (the key ring from
 * the `PageKeySource` port, shared/ports.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const tokenPurposes = ['unsubscribe', 'learn', 'exit', 'confirm'] as const;
export type TokenPurpose = (typeof tokenPurposes)[number];

/** How long a link of each purpose stays valid, in days (RFC 8058 asks for a working unsubscribe link long after the send). */
export const tokenLifetimeDays: Record<TokenPurpose, number> = { unsubscribe: 90, learn: 60, exit: 60, confirm: 30 };

/** One signing key: its id (goes into the token) and its secret bytes (at least 32). */
export type SigningKey = { id: string; secret: Uint8Array };
/** A key still accepted after rotation, until `acceptUntil`. */
export type RetiredKey = SigningKey & { acceptUntil: Date };
/** The current key (signs and verifies) and the retired keys that still verify. */
export type KeyRing = { current: SigningKey; previous: RetiredKey[] };

export type TokenClaims = { purpose: TokenPurpose; customerId: string; issuedAt: Date; expiresAt: Date; keyId: string };

/**
 * Why a token was refused. For logs and metrics only: every page shows the
 * same error for all of them, and none carries anything read from the token.
 */
export type TokenFailure = 'malformed' | 'unknown-key' | 'bad-signature' | 'wrong-purpose' | 'expired' | 'not-yet-valid';
export type TokenError = { kind: 'invalid-token'; reason: TokenFailure };
export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; error: TokenError };

const VERSION = 'v1';
export const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
/** A MAC of 32 bytes is 43 base64url characters. */
const MAC_LENGTH = 43;
/** Longer tokens are refused before any work (a 128-character customer id makes about 260). */
export const MAX_TOKEN_LENGTH = 512;
export const MIN_SECRET_BYTES = 32;
/** Tokens issued up to this far ahead of the verifier's clock are accepted (clocks of two machines differ). */
const CLOCK_SKEW_SECONDS = 300;

const Claims = z.strictObject({
  p: z.enum(tokenPurposes),
  c: z.string().min(1).max(128),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
});

const mac = (secret: Uint8Array, signed: string): string => createHmac('sha256', secret).update(signed, 'ascii').digest('base64url');

function checkKey(key: SigningKey): void {
  if (!KEY_ID.test(key.id)) throw new Error('a signing key id must be 1 to 32 letters, digits, hyphens or underscores');
  if (key.secret.byteLength < MIN_SECRET_BYTES) throw new Error(`a signing key must have at least ${MIN_SECRET_BYTES} bytes`);
}

/** Signs a token for `purpose` and `customerId`, valid from `now` for the purpose's lifetime (or `lifetimeDays`). */
export function signToken(
  keys: KeyRing,
  input: { purpose: TokenPurpose; customerId: string; now: Date; lifetimeDays?: number },
): string {
  checkKey(keys.current);
  const claims = Claims.parse({
    p: input.purpose,
    c: input.customerId,
    iat: Math.floor(input.now.getTime() / 1000),
    exp: Math.floor(input.now.getTime() / 1000 + (input.lifetimeDays ?? tokenLifetimeDays[input.purpose]) * 86_400),
  });
  const signed = `${VERSION}.${keys.current.id}.${Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')}`;
  const token = `${signed}.${mac(keys.current.secret, signed)}`;
  if (token.length > MAX_TOKEN_LENGTH) throw new Error(`the token would be ${token.length} characters, more than ${MAX_TOKEN_LENGTH}`);
  return token;
}

/** The keys that verify at `now`: the current one and the retired ones not past their date. */
function acceptedKey(keys: KeyRing, id: string, now: Date): SigningKey | undefined {
  if (keys.current.id === id) return keys.current;
  return keys.previous.find((k) => k.id === id && now.getTime() <= k.acceptUntil.getTime());
}

/** Constant-time equality of two ASCII strings (length is not secret: a MAC always has 43 characters). */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks a token for `purpose` at `now`. The MAC is checked before the claims
 * are read; then the purpose and the validity period.
 */
export function verifyToken(keys: KeyRing, token: unknown, purpose: TokenPurpose, now: Date): VerifyResult {
  const fail = (reason: TokenFailure): VerifyResult => ({ ok: false, error: { kind: 'invalid-token', reason } });
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return fail('malformed');
  const parts = token.split('.');
  if (parts.length !== 4) return fail('malformed');
  const [version, kid, body, given] = parts as [string, string, string, string];
  if (version !== VERSION || !KEY_ID.test(kid) || !B64URL.test(body) || given.length !== MAC_LENGTH || !B64URL.test(given)) return fail('malformed');
  const key = acceptedKey(keys, kid, now);
  if (!key) return fail('unknown-key');
  if (!sameText(mac(key.secret, `${version}.${kid}.${body}`), given)) return fail('bad-signature');

  let claims: z.infer<typeof Claims>;
  try {
    const parsed = Claims.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    if (!parsed.success) return fail('malformed');
    claims = parsed.data;
  } catch {
    return fail('malformed');
  }
  if (claims.p !== purpose) return fail('wrong-purpose');
  const nowSeconds = now.getTime() / 1000;
  if (nowSeconds >= claims.exp) return fail('expired');
  if (claims.iat > nowSeconds + CLOCK_SKEW_SECONDS) return fail('not-yet-valid');
  return {
    ok: true,
    claims: { purpose: claims.p, customerId: claims.c, issuedAt: new Date(claims.iat * 1000), expiresAt: new Date(claims.exp * 1000), keyId: kid },
  };
}

/**
 * The key ring as stored (in Secrets Manager, and in the local stack's state
 * directory): the current key and the retired ones, secrets as text (their
 * UTF-8 bytes are the HMAC key). `acceptUntil` is an ISO 8601 time.
 */
export const StoredKeyRing = z.strictObject({
  kid: z.string().regex(KEY_ID),
  key: z.string().min(MIN_SECRET_BYTES),
  previous: z
    .array(z.strictObject({ kid: z.string().regex(KEY_ID), key: z.string().min(MIN_SECRET_BYTES), acceptUntil: z.iso.datetime({ offset: true }) }))
    .default([]),
});
export type StoredKeyRing = z.input<typeof StoredKeyRing>;

/** Parses a stored key ring. The error names the fields that are wrong, never a value (the value is the secret). */
export function parseKeyRing(text: string): KeyRing {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('the page signing keys are not valid JSON');
  }
  const parsed = StoredKeyRing.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`the page signing keys are invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`).join('; ')}`);
  }
  const { kid, key, previous } = parsed.data;
  if (previous.some((k) => k.kid === kid) || new Set(previous.map((k) => k.kid)).size !== previous.length) {
    throw new Error('the page signing keys are invalid: key ids must be unique');
  }
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
  return {
    current: { id: kid, secret: bytes(key) },
    previous: previous.map((k) => ({ id: k.kid, secret: bytes(k.key), acceptUntil: new Date(k.acceptUntil) })),
  };
}

/** Path of each page below the pages' base URL. */
export const pagePaths: Record<TokenPurpose, string> = { unsubscribe: 'u', learn: 'learn', exit: 'exit', confirm: 'confirm' };

/** The link to a customer's page: `<base>/<path>/<token>` (the token is URL-safe as it is). */
export function pageUrl(baseUrl: string, purpose: TokenPurpose, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${pagePaths[purpose]}/${token}`;
}

/** Signs a token and returns the page's link: what an email puts in its body or List-Unsubscribe header. */
export function signedPageUrl(keys: KeyRing, baseUrl: string, input: { purpose: TokenPurpose; customerId: string; now: Date }): string {
  return pageUrl(baseUrl, input.purpose, signToken(keys, input));
}
