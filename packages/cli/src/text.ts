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
