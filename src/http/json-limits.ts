// Bounds checked before JSON.parse: parsing and validating a hostile document costs time and memory in
// proportion to its nesting and its number of objects, so both are counted first, in one cheap pass.

export interface JsonLimits {
  /** The deepest nesting of arrays and objects allowed. */
  maxDepth: number;
  /** How many arrays and objects the document may hold in all. */
  maxContainers: number;
}

/**
 * For vendor answers: the deepest real answer nests about 6 levels, the largest (a LibreLinkUp
 * logbook, a VitaDock page) holds a few thousand objects.
 */
export const ANSWER_JSON_LIMITS: JsonLimits = { maxDepth: 64, maxContainers: 200_000 };

/**
 * Why `text` must not be parsed, or `undefined` when it is within the limits. Strings are skipped
 * (brackets inside them do not count); the text need not be valid JSON: JSON.parse judges that.
 */
export function jsonShapeProblem(text: string, limits: JsonLimits): string | undefined {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      containers += 1;
      if (depth > limits.maxDepth) return `nests deeper than ${limits.maxDepth} levels`;
      if (containers > limits.maxContainers) return `holds more than ${limits.maxContainers} objects`;
    } else if (c === 0x5d || c === 0x7d) {
      depth -= 1;
    }
  }
  return undefined;
}
