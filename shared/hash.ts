/**
 * FNV-1a 32-bit: a fast, stable, non-cryptographic hash for sharding. Not for
 * group assignment: without a final mix, neighbouring ids cluster (use
 * shared/experiments/assignment.ts).
 */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
