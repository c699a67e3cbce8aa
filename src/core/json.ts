// JSON without loss: a number whose text a double cannot reproduce (an int64 such as
// 9223372036854775807 in a custom resource, 1.50, 1e5) is kept as its source text
// (JSON.rawJSON), so it leaves the tool exactly as it came from the API server. Go clients
// (kubectl, Velero) keep int64 exact; a backup tool that rounds them corrupts data silently.

type Raw = { readonly rawJSON: string };

const rawJSON = (JSON as unknown as { rawJSON?: (text: string) => Raw }).rawJSON;
const isRawJSON = (JSON as unknown as { isRawJSON?: (v: unknown) => v is Raw }).isRawJSON;

/**
 * Where a number token may not survive a double: 16 or more digits, a fraction ending in 0,
 * an exponent, or -0. Tokens are recognised by what precedes them (`:`, `[`, `,`), so a match
 * inside a string only costs the slow path, never correctness. The API server and this tool
 * write compact JSON, checked by the first, fast pattern; whitespace before a number (any
 * other writer) is checked by the slower second one.
 */
const RISKY_COMPACT = /[:[,](?:-?\d+(?:\.\d*0[,}\]]|(?:\.\d+)?[eE])|-?[\d.]{16}|-0[,}\]])/;
const SPACED_NUMBER = /[:[,]\s+[-\d]/;
const RISKY_SPACED = /[:[,]\s*(?:-?\d+(?:\.\d*0\s*[,}\]]|(?:\.\d+)?[eE])|-?[\d.]{16}|-0\s*[,}\]])/;

function mayLoseNumbers(text: string): boolean {
  // A document that is not an object or array has no `:`, `[` or `,` before its number.
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return true;
  return RISKY_COMPACT.test(text) || (SPACED_NUMBER.test(text) && RISKY_SPACED.test(text));
}

/** Keeps a number's source text when the parsed double would print differently. */
function reviver(this: unknown, _key: string, value: unknown, context?: { source?: string }) {
  if (typeof value !== 'number' || context?.source === undefined) return value;
  const source = context.source;
  if (String(value) === source) return value;
  if (!rawJSON) {
    throw new Error(
      `the number ${source} cannot be kept exactly by this Node.js runtime (it lacks JSON.rawJSON)`,
    );
  }
  return rawJSON(source);
}

/** JSON.parse, except that numbers keep their exact text where a double would change it. */
export function parseJson(text: string): unknown {
  if (!mayLoseNumbers(text)) return JSON.parse(text);
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown);
}

/** True for a number kept as its source text by parseJson. */
export function isRawNumber(v: unknown): v is Raw {
  return isRawJSON?.(v) === true;
}

/**
 * A deep copy of parsed JSON. structuredClone refuses the raw numbers parseJson keeps, and
 * they are immutable, so they are shared.
 */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  if (v === null || typeof v !== 'object' || isRawNumber(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = cloneJson(x);
  return out as T;
}
