/**
 * True when the arrays and objects of a JSON text nest deeper than `limit`. It scans the text
 * instead of the parsed value so that nothing ever recurses over an attacker's nesting; for valid
 * JSON the count is exact, and invalid JSON is rejected by the parser anyway.
 */
export function jsonDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
