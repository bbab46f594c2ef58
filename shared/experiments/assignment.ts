/**
 * Random assignment of units (customers) to groups for an experiment: a
 * campaign's control group today, outreach plans later. Deterministic (the
 * same unit and salt always give the same answer, so a redelivered trigger or
 * a re-run lands in the same group) and well mixed: the point of a unit is
 * SHA-256 of `salt NUL unitId`, so neighbouring ids (`C-001`, `C-002`, …),
 * prefixed ids and ids of any shape spread uniformly, and two salts give
 * independent assignments. A new salt (a new experiment, or a new version of
 * one) reshuffles everybody. Pure (node:crypto's hash, no AWS).
 */
import { createHash } from 'node:crypto';

const TWO_POW_21 = 2 ** 21;
const TWO_POW_53 = 2 ** 53;

/**
 * The unit's point in [0, 1) for this salt, from the first 53 bits of
 * SHA-256(salt, NUL, unitId): every double in [0, 1) a 53-bit fraction can
 * hold. The salt may not contain NUL, so `salt NUL id` is unambiguous.
 */
export function assignmentPoint(unitId: string, salt: string): number {
  if (salt.includes('\0')) throw new Error('an assignment salt must not contain NUL');
  const digest = createHash('sha256').update(salt, 'utf8').update('\0').update(unitId, 'utf8').digest();
  const high = digest.readUInt32BE(0); // 32 bits
  const low = digest.readUInt32BE(4) >>> 11; // the next 21 bits
  return (high * TWO_POW_21 + low) / TWO_POW_53;
}

/** Whether the unit falls in a group of `percent` % of all units (0 → nobody, 100 → everybody). */
export function isAssigned(unitId: string, salt: string, percent: number): boolean {
  if (!(percent >= 0 && percent <= 100)) throw new RangeError(`percent must be between 0 and 100, got ${percent}`);
  return assignmentPoint(unitId, salt) * 100 < percent;
}
