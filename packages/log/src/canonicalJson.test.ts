import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.js';
import { canonicalBytes, canonicalize } from './canonicalJson.js';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    return (e as { code?: string }).code ?? `not a LogError: ${String(e)}`;
  }
  throw new Error('expected an error');
}

const fromBits = (hex: string): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
};

describe('RFC 8785 examples', () => {
  it('section 3.2.2: serialization of primitives', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('section 3.2.3: sorting by UTF-16 code units, not code points', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('section 3.2.4: UTF-8 of the sorted example', () => {
    expect(toHex(canonicalBytes({ '\u20ac': 1, '\r': 2 }))).toBe('7b225c72223a322c22e282ac223a317d');
  });

  // Appendix B: IEEE 754 bit patterns and their JCS text.
  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('appendix B: %s is %s', (bits, text) => {
    expect(canonicalize(fromBits(bits))).toBe(text);
  });

  it.each(['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000'])('appendix B: %s (NaN or Infinity) is refused', (bits) => {
    expect(codeOf(() => canonicalize(fromBits(bits)))).toBe('ERR_JSON_NOT_CANONICALIZABLE');
  });
});

describe('other cases', () => {
  it('sorts nested objects and keeps array order', () => {
    const input = JSON.parse('{"1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0}, "10": { }, "": "empty", "a": { }, "111": [ { } ], "A": { }}');
    expect(canonicalize(input)).toBe('{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}');
  });

  it('escapes only what JCS escapes, in lower-case hex', () => {
    expect(canonicalize('\u0000\u0007\b\t\n\u000b\f\r\u001f "\\/\u007f\u0080\u2028\ud83d\ude00')).toBe(
      '"\\u0000\\u0007\\b\\t\\n\\u000b\\f\\r\\u001f \\"\\\\/\u007f\u0080\u2028\ud83d\ude00"',
    );
  });

  it('accepts objects without a prototype', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    o.a = [true, null];
    expect(canonicalize(o)).toBe('{"a":[true,null],"b":1}');
  });

  it('keeps a "__proto__" member as data', () => {
    expect(canonicalize(JSON.parse('{"__proto__": {"x": 1}, "a": 2}'))).toBe('{"__proto__":{"x":1},"a":2}');
  });

  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  let deep: unknown = 1;
  for (let i = 0; i < 1001; i++) deep = [deep];

  it.each<[string, unknown]>([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['undefined', undefined],
    ['an undefined member', { a: undefined }],
    ['an undefined element', [1, undefined]],
    ['an array hole', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a bigint', 1n],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a Uint8Array', new Uint8Array(1)],
    ['a class instance', new (class Point { x = 1; })()],
    ['a lone high surrogate', 'a\ud800'],
    ['a lone low surrogate', '\udc00b'],
    ['a lone surrogate in a key', { '\ud800': 1 }],
    ['a swapped pair', '\ude00\ud83d'],
    ['a cycle', cyclic],
    ['nesting deeper than 1000', deep],
  ])('refuses %s', (_, value) => {
    expect(codeOf(() => canonicalize(value))).toBe('ERR_JSON_NOT_CANONICALIZABLE');
  });

  it('accepts nesting of 1000', () => {
    let v: unknown = 1;
    for (let i = 0; i < 1000; i++) v = [v];
    expect(canonicalize(v)).toBe(`${'['.repeat(1000)}1${']'.repeat(1000)}`);
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { a: 1 };
    expect(canonicalize([shared, shared])).toBe('[{"a":1},{"a":1}]');
  });
});

describe('properties', () => {
  it('parses back to the same JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(JSON.parse(canonicalize(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const once = canonicalize(v);
        expect(canonicalize(JSON.parse(once))).toBe(once);
      }),
    );
  });

  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()), (d) => {
        const reversed = Object.fromEntries(Object.entries(d).reverse());
        expect(canonicalize(reversed)).toBe(canonicalize(d));
      }),
    );
  });

  it('writes flat objects as sorted members with ES-serialized values', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string())), (d) => {
        const keys = Object.keys(d).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(canonicalize(d)).toBe(`{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(d[k])}`).join(',')}}`);
      }),
    );
  });

  it('round-trips every valid string and escapes nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const text = canonicalize(s);
        expect(JSON.parse(text)).toBe(s);
        // eslint-disable-next-line no-control-regex -- finding control characters is the point
        expect(text).not.toMatch(/[\u0000-\u001f]/);
        expect(text.slice(1, -1).replace(/\\(["\\bfnrt]|u00[01][0-9a-f])/g, '')).not.toMatch(/\\/);
      }),
    );
  });

  it('refuses any string with a lone surrogate', () => {
    const lone = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.string(), lone, fc.string(), (a, s, b) => {
        expect(codeOf(() => canonicalize(`${a}${s}${b}`))).toBe('ERR_JSON_NOT_CANONICALIZABLE');
      }),
    );
  });
});

describe('fast paths against a plain reference', () => {
  /** RFC 8785 written the plainest way: keys sorted by `sort()`, every string and number through JSON.stringify. */
  function reference(v: unknown): string {
    if (typeof v === 'string' || typeof v === 'number') return JSON.stringify(v);
    if (v === null || typeof v === 'boolean') return String(v);
    if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${reference(o[k])}`)
      .join(',')}}`;
  }
  const key = fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('10', '9', '0', '01', '-1', '__proto__', 'a', 'B', '\u20ac', '\ud83d\ude00'));
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string({ unit: 'binary' }).filter((s) => !/\p{Cs}/u.test(s)),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(-0, 0.1, 1e21, 1e-7, 5e-324, 2 ** 53, 'a"b', 'back\\slash', '\u0000\u001f\u007f'),
      fc.boolean(),
      fc.constant(null),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 5 }),
    // Up to 40 keys: sorted by insertion below 17, by Array.prototype.sort above.
    object: fc.dictionary(key, tie('value'), { maxKeys: 40 }),
  })).value;

  it('writes what the plain reference writes, for any JSON', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalize(v)).toBe(reference(v));
      }),
      { numRuns: 1000 },
    );
  });

  it('sorts null-prototype objects built in any key order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 40 }), (keys) => {
        const o = Object.create(null) as Record<string, number>;
        keys.forEach((k, i) => (o[k] = i));
        expect(canonicalize(o)).toBe(reference(o));
      }),
    );
  });
});
