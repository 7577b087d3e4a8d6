/** Wording shared by the commands' messages. */

/** `1 entry`, `2 entries`: a count with its noun in the right number. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

// eslint-disable-next-line no-control-regex -- escaping control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Text for a one-line message: control characters (a newline from a file's
 * content quoted in a parser's error, a terminal escape) written as `\n`,
 * `\u001b` and the like, as JSON writes them.
 */
export function oneLine(text: string): string {
  return text.replace(CONTROL, (c) => {
    const escaped = JSON.stringify(c).slice(1, -1);
    return escaped.length > 1 ? escaped : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Characters a terminal draws two columns wide: East Asian wide and fullwidth forms, and emoji. */
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
/** Characters drawn on the one before them, or not at all. */
const ZERO = /[\p{Mn}\p{Me}\u200b-\u200f]/u;

/** The columns a terminal gives a character. */
const columnsOf = (char: string): number => (ZERO.test(char) ? 0 : WIDE.test(char) ? 2 : 1);

/** The columns a terminal gives `text` (one line). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += columnsOf(char);
  return width;
}

/**
 * `text` in exactly `width` columns: padded with spaces, or cut with `…`
 * (one more space when a wide character would straddle the edge).
 */
export function fitColumns(text: string, width: number): string {
  const have = displayWidth(text);
  if (have <= width) return text + ' '.repeat(width - have);
  let out = '';
  let used = 0;
  for (const char of text) {
    const w = columnsOf(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return out + '…' + ' '.repeat(width - 1 - used);
}
