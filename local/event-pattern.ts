/**
 * EventBridge event-pattern matching, used locally by the bus rules and by the
 * stream filter criteria (Lambda applies the same syntax to stream records).
 *
 * Supported: exact values (strings, numbers, booleans, null), arrays as OR,
 * nested objects, `prefix`, `suffix` (both also with `equals-ignore-case`),
 * `anything-but` (a value, a list of values, `{prefix}`, `{suffix}`,
 * `{equals-ignore-case}`, `{wildcard}`), `exists`, `numeric` ranges,
 * `equals-ignore-case`, `wildcard` (`*` only) and `$or`.
 *
 * When the event field is an array, the field matches if any element matches
 * (as in EventBridge). A pattern field whose event field is missing matches
 * only `{ "exists": false }`.
 */
export type Pattern = { [key: string]: unknown };

const MISSING = Symbol('missing');
type Value = unknown | typeof MISSING;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `event` matches `pattern`. Throws on an invalid pattern. */
export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  if (!isPlainObject(pattern)) throw new Error('an event pattern must be a JSON object');
  return matchObject(pattern, event);
}

/** True when the event matches any of the patterns (Lambda filter criteria are an OR of filters). */
export function matchesAny(patterns: Pattern[], event: unknown): boolean {
  return patterns.some((p) => matchesPattern(p, event));
}

function matchObject(pattern: Record<string, unknown>, event: unknown): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2) throw new Error('$or takes an array of at least two patterns');
      if (!sub.some((alt) => matchObject(alt as Record<string, unknown>, event))) return false;
      continue;
    }
    const value: Value = isPlainObject(event) && Object.hasOwn(event, key) ? event[key] : MISSING;
    if (isPlainObject(sub)) {
      // Nested pattern: descend. A missing or non-object value only matches leaves that allow absence.
      if (Array.isArray(value)) {
        if (!value.some((el) => matchObject(sub, el))) return false;
      } else if (!matchObject(sub, value === MISSING ? undefined : value)) {
        return false;
      }
      continue;
    }
    const alternatives = Array.isArray(sub) ? sub : [sub];
    if (!matchLeaf(alternatives, value)) return false;
  }
  return true;
}

function matchLeaf(alternatives: unknown[], value: Value): boolean {
  if (alternatives.length === 0) throw new Error('an empty array in a pattern matches nothing');
  // exists:false is about absence; everything else needs a present value.
  for (const alt of alternatives) {
    if (isPlainObject(alt) && Object.hasOwn(alt, 'exists')) {
      const wanted = alt.exists;
      if (typeof wanted !== 'boolean') throw new Error('exists takes true or false');
      const present = value !== MISSING && !(Array.isArray(value) && value.length === 0);
      if (present === wanted) return true;
    }
  }
  if (value === MISSING) return false;
  const values = Array.isArray(value) ? value : [value];
  return alternatives.some((alt) => {
    if (isPlainObject(alt) && Object.hasOwn(alt, 'exists')) return false;
    return values.some((v) => matchOne(alt, v));
  });
}

function matchOne(alt: unknown, v: unknown): boolean {
  if (!isPlainObject(alt)) return exactEquals(alt, v);
  const keys = Object.keys(alt);
  if (keys.length !== 1) throw new Error(`a content filter takes exactly one operator, got ${JSON.stringify(alt)}`);
  const [op] = keys;
  const arg = alt[op];
  switch (op) {
    case 'prefix':
      return stringOp(arg, v, (s, a) => s.startsWith(a), 'prefix');
    case 'suffix':
      return stringOp(arg, v, (s, a) => s.endsWith(a), 'suffix');
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw new Error('equals-ignore-case takes a string');
      return typeof v === 'string' && v.toLowerCase() === arg.toLowerCase();
    case 'wildcard':
      if (typeof arg !== 'string') throw new Error('wildcard takes a string');
      return typeof v === 'string' && wildcardRegExp(arg).test(v);
    case 'numeric':
      return numericMatch(arg, v);
    case 'anything-but':
      return anythingBut(arg, v);
    case 'cidr':
      throw new Error('cidr matching is not supported by the local bus');
    default:
      throw new Error(`unsupported pattern operator "${op}"`);
  }
}

function exactEquals(alt: unknown, v: unknown): boolean {
  if (alt === null) return v === null;
  if (typeof alt === 'number' && typeof v === 'number') return alt === v;
  if (typeof alt === 'string' || typeof alt === 'boolean' || typeof alt === 'number') return alt === v;
  throw new Error(`unsupported pattern value ${JSON.stringify(alt)}`);
}

function stringOp(arg: unknown, v: unknown, test: (s: string, a: string) => boolean, name: string): boolean {
  if (typeof v !== 'string') return false;
  if (typeof arg === 'string') return test(v, arg);
  if (isPlainObject(arg) && typeof arg['equals-ignore-case'] === 'string') {
    return test(v.toLowerCase(), (arg['equals-ignore-case'] as string).toLowerCase());
  }
  throw new Error(`${name} takes a string or {"equals-ignore-case": string}`);
}

const wildcardCache = new Map<string, RegExp>();
function wildcardRegExp(glob: string): RegExp {
  let re = wildcardCache.get(glob);
  if (!re) {
    if (glob.includes('**')) throw new Error('wildcard patterns cannot contain consecutive * characters');
    const body = glob
      .split(/(\\\*|\*)/)
      .map((part) => (part === '*' ? '.*' : part === '\\*' ? '\\*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`, 's');
    wildcardCache.set(glob, re);
  }
  return re;
}

function numericMatch(arg: unknown, v: unknown): boolean {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0) {
    throw new Error('numeric takes [op, number] or [op, number, op, number]');
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = arg[i + 1];
    if (typeof n !== 'number') throw new Error('numeric bounds must be numbers');
    const ok =
      op === '=' ? v === n : op === '<' ? v < n : op === '<=' ? v <= n : op === '>' ? v > n : op === '>=' ? v >= n : undefined;
    if (ok === undefined) throw new Error(`unknown numeric operator ${JSON.stringify(op)}`);
    if (!ok) return false;
  }
  return true;
}

function anythingBut(arg: unknown, v: unknown): boolean {
  if (Array.isArray(arg)) return !arg.some((a) => exactEquals(a, v));
  if (isPlainObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1) throw new Error('anything-but takes one operator');
    const op = keys[0];
    const a = arg[op];
    const list = Array.isArray(a) ? a : [a];
    // The string operators of anything-but only match string values.
    if (typeof v !== 'string') return false;
    switch (op) {
      case 'prefix':
        return !list.some((p) => typeof p === 'string' && v.startsWith(p));
      case 'suffix':
        return !list.some((p) => typeof p === 'string' && v.endsWith(p));
      case 'equals-ignore-case':
        return !list.some((p) => typeof p === 'string' && p.toLowerCase() === v.toLowerCase());
      case 'wildcard':
        return !list.some((p) => typeof p === 'string' && wildcardRegExp(p).test(v));
      default:
        throw new Error(`unsupported anything-but operator "${op}"`);
    }
  }
  return !exactEquals(arg, v);
}
