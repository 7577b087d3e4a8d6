/**
 * Free-text search terms. The store and every driver tokenize the same way:
 * lower-case runs of letters and digits. A query term matches an event when
 * its tokens appear consecutively among the event's tokens (a phrase), so
 * `init.el` finds `~/.emacs.d/init.el` but not `init` and `el` far apart.
 */

const SEPARATORS = /[^\p{L}\p{N}]+/u;

/** The tokens of a text, in order. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().split(SEPARATORS).filter((t) => t !== '');
}

/** The query's terms (split on white space), each as its tokens; terms without tokens are dropped. */
export function queryTerms(text: string): string[][] {
  return text
    .split(/\s+/)
    .map(tokenize)
    .filter((t) => t.length > 0);
}

/**
 * The words of a query (split on white space) without a letter or digit
 * (`€`, an emoji, `--`): they have no tokens, so {@link queryTerms} drops
 * them and they would match anything.
 */
export function wordsWithoutTokens(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '' && tokenize(word).length === 0);
}

/** True when every term occurs as a phrase in the tokens. */
export function matchesTerms(tokens: readonly string[], terms: readonly (readonly string[])[]): boolean {
  return terms.every((term) => {
    for (let i = 0; i + term.length <= tokens.length; i++) {
      let j = 0;
      while (j < term.length && tokens[i + j] === term[j]) j++;
      if (j === term.length) return true;
    }
    return false;
  });
}
