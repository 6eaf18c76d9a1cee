/** How deep and how big a message payload a node reads may be. */
export interface PayloadLimits {
  maxDepth: number;
  maxNodes: number;
}

/** Far above a day of readings (288 small objects in one array), far below what hurts. */
export const PAYLOAD_LIMITS: PayloadLimits = { maxDepth: 32, maxNodes: 100_000 };

/**
 * Why a payload is too deep or too big to handle, or `undefined`. Walks without recursion and stops
 * at the first limit passed, so a hostile payload costs at most `maxNodes` steps and no stack. Such a
 * payload must leave the message before it fails: Node-RED copies a failed message for Catch nodes
 * with a recursive clone, which a few thousand levels overflow.
 */
export function payloadProblem(value: unknown, limits: PayloadLimits = PAYLOAD_LIMITS): string | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value: item, depth } = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    nodes += 1;
    if (depth >= limits.maxDepth) return `it nests deeper than ${limits.maxDepth} levels`;
    if (nodes > limits.maxNodes) return `it holds more than ${limits.maxNodes} objects`;
    const children = Array.isArray(item) ? item : Object.values(item as Record<string, unknown>);
    for (const child of children) stack.push({ value: child, depth: depth + 1 });
  }
  return undefined;
}
