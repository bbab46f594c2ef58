import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_TOKEN_LENGTH,
  pageUrl,
  parseKeyRing,
  signToken,
  signedPageUrl,
  tokenPurposes,
  tokenLifetimeDays,
  verifyToken,
  type KeyRing,
  type TokenPurpose,
} from '../../../shared/pages/tokens.ts';

const key = (id: string, fill?: number) => ({ id, secret: fill === undefined ? new Uint8Array(randomBytes(32)) : new Uint8Array(32).fill(fill) });
const ring: KeyRing = { current: key('k2'), previous: [] };
const now = new Date('2026-12-01T12:00:00Z');
const DAY = 86_400_000;
const at = (ms: number) => new Date(now.getTime() + ms);

const purpose = fc.constantFrom(...tokenPurposes);
const customerId = fc.string({ minLength: 1, maxLength: 128 });

describe('page tokens', () => {
  it('round trip: a signed token verifies for its purpose and gives back the customer and times', () => {
    const token = signToken(ring, { purpose: 'unsubscribe', customerId: 'C-1001', now });
    expect(token).toMatch(/^v1\.k2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyToken(ring, token, 'unsubscribe', at(DAY))).toEqual({
      ok: true,
      claims: { purpose: 'unsubscribe', customerId: 'C-1001', issuedAt: now, expiresAt: at(90 * DAY), keyId: 'k2' },
    });
  });

  it('property: any customer id and purpose round-trips, and the token is URL-safe', () => {
    fc.assert(
      fc.property(purpose, customerId, fc.integer({ min: 0, max: 59 * 86_400 }), (p, c, afterSeconds) => {
        const token = signToken(ring, { purpose: p, customerId: c, now });
        expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
        expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
        // any time within the purpose's lifetime (the double opt-in's is 30 days)
        const r = verifyToken(ring, token, p, at((afterSeconds % (tokenLifetimeDays[p] * 86_400)) * 1000));
        expect(r.ok && r.claims.customerId).toBe(c);
      }),
    );
  });

  it('property: flipping any single bit of a token makes it fail', () => {
    fc.assert(
      fc.property(purpose, customerId, fc.nat(), fc.integer({ min: 0, max: 7 }), (p, c, pos, bit) => {
        const token = signToken(ring, { purpose: p, customerId: c, now });
        const bytes = Buffer.from(token, 'latin1');
        const i = pos % bytes.length;
        bytes[i] = bytes[i]! ^ (1 << bit);
        const tampered = bytes.toString('latin1');
        const r = verifyToken(ring, tampered, p, now);
        expect(r.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('the last character of the MAC carries padding bits: changing them still fails (the MAC text is compared, not its decoded bytes)', () => {
    const token = signToken(ring, { purpose: 'learn', customerId: 'C-1', now });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const ch of alphabet) {
      if (ch === token.at(-1)) continue;
      expect(verifyToken(ring, token.slice(0, -1) + ch, 'learn', now)).toEqual({ ok: false, error: { kind: 'invalid-token', reason: 'bad-signature' } });
    }
  });

  it('refuses a token for another purpose, after expiry, from the future, or under an unknown key — with nothing from the token', () => {
    const token = signToken(ring, { purpose: 'learn', customerId: 'C-1', now });
    const fail = (reason: string) => ({ ok: false, error: { kind: 'invalid-token', reason } });
    expect(verifyToken(ring, token, 'unsubscribe', now)).toEqual(fail('wrong-purpose'));
    expect(verifyToken(ring, token, 'learn', at(60 * DAY - 1000)).ok).toBe(true);
    expect(verifyToken(ring, token, 'learn', at(60 * DAY))).toEqual(fail('expired'));
    expect(verifyToken(ring, token, 'learn', at(-301_000))).toEqual(fail('not-yet-valid'));
    expect(verifyToken(ring, token, 'learn', at(-299_000)).ok).toBe(true);
    expect(verifyToken({ current: key('k3'), previous: [] }, token, 'learn', now)).toEqual(fail('unknown-key'));
    // same key id, another secret: the signature is wrong
    expect(verifyToken({ current: key('k2'), previous: [] }, token, 'learn', now)).toEqual(fail('bad-signature'));
  });

  it('refuses malformed input without throwing', () => {
    const good = signToken(ring, { purpose: 'exit', customerId: 'C-1', now });
    const [v, kid, body, mac] = good.split('.') as [string, string, string, string];
    const bad: unknown[] = [undefined, null, 42, '', 'v1', `${good}.x`, `v2.${kid}.${body}.${mac}`, `v1.${kid}.${body}.${mac}=`, `v1.k 2.${body}.${mac}`, `v1.${kid}..${mac}`, 'x'.repeat(MAX_TOKEN_LENGTH + 1), `v1.${kid}.${body}+.${mac}`];
    for (const t of bad) {
      const r = verifyToken(ring, t, 'exit', now);
      expect(r.ok).toBe(false);
      expect(Object.keys(r)).toEqual(['ok', 'error']);
    }
    expect(v).toBe('v1');
  });

  it('a correctly signed token whose claims are not ours is refused as malformed (a key used elsewhere cannot be confused)', async () => {
    const { createHmac } = await import('node:crypto');
    const k = key('k9', 7);
    const body = Buffer.from(JSON.stringify({ p: 'unsubscribe', c: 'C-1', iat: 1, exp: 9e9, extra: true })).toString('base64url');
    const signed = `v1.k9.${body}`;
    const token = `${signed}.${createHmac('sha256', k.secret).update(signed).digest('base64url')}`;
    expect(verifyToken({ current: k, previous: [] }, token, 'unsubscribe', now)).toEqual({ ok: false, error: { kind: 'invalid-token', reason: 'malformed' } });
  });

  it('rotation: a token of the retired key verifies until its acceptUntil, new tokens use the current key', () => {
    const old = key('k1');
    const before: KeyRing = { current: old, previous: [] };
    const token = signToken(before, { purpose: 'unsubscribe', customerId: 'C-7', now });
    const after: KeyRing = { current: key('k2'), previous: [{ ...old, acceptUntil: at(30 * DAY) }] };
    expect(verifyToken(after, token, 'unsubscribe', at(30 * DAY)).ok).toBe(true);
    expect(verifyToken(after, token, 'unsubscribe', at(30 * DAY + 1))).toEqual({ ok: false, error: { kind: 'invalid-token', reason: 'unknown-key' } });
    expect(signToken(after, { purpose: 'unsubscribe', customerId: 'C-7', now }).split('.')[1]).toBe('k2');
    // a retired key never signs
    expect(verifyToken(before, signToken(after, { purpose: 'unsubscribe', customerId: 'C-7', now }), 'unsubscribe', now).ok).toBe(false);
  });

  it('refuses to sign with a short or badly named key, or an empty or overlong customer id', () => {
    expect(() => signToken({ current: { id: 'k', secret: new Uint8Array(31) }, previous: [] }, { purpose: 'learn', customerId: 'C', now })).toThrow(/at least 32 bytes/);
    expect(() => signToken({ current: { id: 'k.1', secret: new Uint8Array(32) }, previous: [] }, { purpose: 'learn', customerId: 'C', now })).toThrow(/key id/);
    expect(() => signToken(ring, { purpose: 'learn', customerId: '', now })).toThrow();
    expect(() => signToken(ring, { purpose: 'learn', customerId: 'x'.repeat(129), now })).toThrow();
  });

  it('page links: <base>/u|learn|exit/<token>, a trailing slash of the base dropped', () => {
    expect(pageUrl('https://p.example.com/', 'unsubscribe', 'T')).toBe('https://p.example.com/u/T');
    expect(pageUrl('https://p.example.com/base', 'learn', 'T')).toBe('https://p.example.com/base/learn/T');
    expect(pageUrl('https://p.example.com', 'exit', 'T')).toBe('https://p.example.com/exit/T');
    const url = signedPageUrl(ring, 'https://p.example.com', { purpose: 'exit', customerId: 'C-1', now });
    const token = url.slice('https://p.example.com/exit/'.length);
    expect(verifyToken(ring, token, 'exit' satisfies TokenPurpose, now).ok).toBe(true);
  });
});

describe('parseKeyRing', () => {
  const secret = 'a'.repeat(40);
  it('reads the stored JSON; the secret text is the key bytes', () => {
    const r = parseKeyRing(JSON.stringify({ kid: 'k2', key: secret, previous: [{ kid: 'k1', key: 'b'.repeat(32), acceptUntil: '2027-01-01T00:00:00Z' }] }));
    expect(r.current.id).toBe('k2');
    expect(Buffer.from(r.current.secret).toString()).toBe(secret);
    expect(r.previous).toEqual([{ id: 'k1', secret: new Uint8Array(Buffer.from('b'.repeat(32))), acceptUntil: new Date('2027-01-01T00:00:00Z') }]);
    expect(parseKeyRing(JSON.stringify({ kid: 'k2', key: secret })).previous).toEqual([]);
  });

  it('errors name the field, never the secret', () => {
    const cases = [
      'not json ' + secret,
      JSON.stringify({ kid: 'k2', key: 'short-' + 'z'.repeat(10) }),
      JSON.stringify({ kid: 'bad id', key: secret }),
      JSON.stringify({ kid: 'k2', key: secret, previous: [{ kid: 'k2', key: secret, acceptUntil: '2027-01-01T00:00:00Z' }] }),
      JSON.stringify({ kid: 'k2', key: secret, previous: [{ kid: 'k1', key: secret, acceptUntil: 'soon' }] }),
    ];
    for (const c of cases) {
      let message = '';
      try {
        parseKeyRing(c);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/page signing keys/);
      expect(message).not.toContain('aaaa');
      expect(message).not.toContain('zzzz');
    }
  });
});
