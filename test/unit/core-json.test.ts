// Numbers leave the tool exactly as they came: parseJson keeps what a double would change.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloneJson, isRawNumber, parseJson } from '../../src/core/json.js';

/** JSON number texts, many of which a double cannot print back the same. */
const numberText = fc.oneof(
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc
    .tuple(fc.integer({ min: 0, max: 999 }), fc.stringMatching(/^\d{1,20}$/))
    .map(([i, f]) => `${i}.${f}`),
  fc.constantFrom('-0', '1.0', '1.50', '1e5', '1E+5', '-2.5e-3', '0', '100', '9223372036854775807'),
);

/** Compact JSON texts holding those numbers among strings that look like numbers too. */
const doc: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    numberText,
    fc.string().map((s) => JSON.stringify(s)),
    fc.constantFrom('"port: 8080"', '"a:1e5"', 'true', 'null'),
    fc.array(tie('v'), { maxLength: 5 }).map((xs) => `[${xs.join(',')}]`),
    fc.dictionary(fc.string({ maxLength: 5 }), tie('v'), { maxKeys: 5 }).map(
      (o) =>
        `{${Object.entries(o)
          .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
          .join(',')}}`,
    ),
  ),
})).v;

describe('lossless JSON', () => {
  it('a compact document prints back byte for byte, whatever numbers it holds', () => {
    fc.assert(
      fc.property(doc, (text) => {
        expect(JSON.stringify(parseJson(text))).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps int64 extremes and 2^53+1 exact, with whitespace around them too', () => {
    const text = '{ "a": 9007199254740993, "b": [ -9223372036854775808 ,9223372036854775807 ] }';
    expect(JSON.stringify(parseJson(text))).toBe(
      '{"a":9007199254740993,"b":[-9223372036854775808,9223372036854775807]}',
    );
  });

  it('leaves numbers a double holds exactly as plain numbers', () => {
    const v = parseJson('{"replicas":3,"ratio":0.5,"port":8080,"big":9007199254740993}') as Record<
      string,
      unknown
    >;
    expect(v.replicas).toBe(3);
    expect(v.ratio).toBe(0.5);
    expect(isRawNumber(v.big)).toBe(true);
  });

  it('copies deeply, sharing the immutable raw numbers, where structuredClone would throw', () => {
    const v = parseJson('{"a":{"b":[9007199254740993,{"c":1}]}}') as { a: { b: unknown[] } };
    expect(() => structuredClone(v)).toThrow();
    const copy = cloneJson(v);
    expect(JSON.stringify(copy)).toBe('{"a":{"b":[9007199254740993,{"c":1}]}}');
    expect(copy.a).not.toBe(v.a);
    expect(copy.a.b[1]).not.toBe(v.a.b[1]);
  });
});
