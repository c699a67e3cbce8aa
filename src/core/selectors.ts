// Label selectors in kubectl's syntax, parsed once and matched client-side (restore and diff
// filter archived objects; backup passes the string to the API server instead).
import { UserError } from './errors.js';

export type Requirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: string[] };

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** A label key: [prefix/]name, the prefix a DNS subdomain (≤ 253), the name at most 63 characters. */
export function isLabelKey(k: string): boolean {
  const slash = k.indexOf('/');
  const tooLong = slash < 0 ? k.length > 63 : slash > 253 || k.length - slash - 1 > 63;
  return KEY.test(k) && !tooLong;
}

/** A label value: empty, or at most 63 characters of the name's alphabet. */
export function isLabelValue(v: string): boolean {
  return VALUE.test(v) && v.length <= 63;
}

function invalid(selector: string, why: string): UserError {
  return new UserError(
    `invalid label selector "${selector}": ${why}`,
    'use the kubectl syntax, e.g. app=web, tier!=cache, env in (prod,staging), !legacy',
  );
}

/** Splits on commas outside parentheses. */
function split(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseSelector(selector: string): Requirement[] {
  if (selector.trim() === '') throw invalid(selector, 'it is empty');
  return split(selector).map((raw) => {
    const part = raw.trim();
    const checkKey = (k: string) => {
      if (!isLabelKey(k)) throw invalid(selector, `"${k}" is not a valid label key`);
      return k;
    };
    const checkValue = (v: string) => {
      if (!isLabelValue(v)) throw invalid(selector, `"${v}" is not a valid label value`);
      return v;
    };
    let m = /^!\s*(\S+)$/.exec(part);
    if (m) return { key: checkKey(m[1] as string), op: 'notexists' as const };
    m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (m) {
      const op = m[2] === '!=' ? ('notin' as const) : ('in' as const);
      return { key: checkKey(m[1] as string), op, values: [checkValue(m[3] as string)] };
    }
    m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    if (m) {
      const values = (m[3] as string).split(',').map((v) => checkValue(v.trim()));
      return { key: checkKey(m[1] as string), op: m[2] as 'in' | 'notin', values };
    }
    if (/^\S+$/.test(part)) return { key: checkKey(part), op: 'exists' as const };
    throw invalid(selector, `cannot read "${part}"`);
  });
}

export function matchesSelector(
  reqs: Requirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key] as string);
      default: // notin
        return !has || !r.values.includes(l[r.key] as string);
    }
  });
}
