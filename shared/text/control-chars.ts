/**
 * Control characters in producer-supplied text. A value that can reach an
 * email header (the subject, a display name) must never carry CR or LF (a
 * header injection: `Eve\r\nBcc: …`), nor any other control character.
 * Validation refuses them in the catalog's single-line fields; rendering
 * neutralises them again (profiles stored before validation refused them, or
 * reached through another path). Pure.
 */

/**
 * C0 and C1 controls (NUL…US, DEL, U+0080…U+009F: CR, LF, TAB, NEL, …) and the
 * Unicode line and paragraph separators (U+2028, U+2029), which some mail and
 * text software also treats as line breaks.
 */
export const CONTROL_CHAR = /[\p{Cc}\u2028\u2029]/u;
const CONTROL_RUNS = /[\p{Cc}\u2028\u2029]+/gu;

/** The first control character of `text`: its position (UTF-16 index) and code point as `U+000D`; undefined when there is none. */
export function firstControlChar(text: string): { index: number; codePoint: string } | undefined {
  const m = CONTROL_CHAR.exec(text);
  if (!m) return undefined;
  return { index: m.index, codePoint: `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` };
}

/** One line of plain text: every run of control characters becomes one space, and the ends are trimmed. */
export const singleLine = (text: string): string => text.replace(CONTROL_RUNS, ' ').trim();
