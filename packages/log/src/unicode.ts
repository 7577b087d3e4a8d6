/**
 * The lone-surrogate test that canonical JSON and event validation run on
 * every string and key, and the cheap filter for controls. Internal: not
 * exported from the package.
 */

/** Controls (C0, DEL, C1) and surrogates of any kind: a cheap filter before exact (Unicode-aware) tests. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const CONTROL_OR_SURROGATE = /[\u0000-\u001f\u007f-\u009f\uD800-\uDFFF]/;

/** Any surrogate code unit: a cheap filter before the exact test. */
const SURROGATE = /[\uD800-\uDFFF]/;
/** A lone surrogate: with the `u` flag, paired surrogates match as one code point and not as `Cs`. */
const LONE_SURROGATE = /\p{Cs}/u;

type WellFormed = { isWellFormed(): boolean };
const native = typeof (String.prototype as Partial<WellFormed>).isWellFormed === 'function';

/**
 * True when `text` holds a lone surrogate (is not valid Unicode). Uses
 * `String.prototype.isWellFormed` (ES2024) where the runtime has it: V8
 * answers at once for a string it stores as Latin-1, which cannot hold one.
 */
export const hasLoneSurrogate: (text: string) => boolean = native
  ? (text) => !(text as unknown as WellFormed).isWellFormed()
  : (text) => SURROGATE.test(text) && LONE_SURROGATE.test(text);
