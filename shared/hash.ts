/** FNV-1a 32-bit: a fast, stable, non-cryptographic hash for sharding and group assignment. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A stable number in [0, 1) for a key: the same key always lands in the same bucket. */
export const unitHash = (key: string): number => fnv1a(key) / 0x1_0000_0000;
