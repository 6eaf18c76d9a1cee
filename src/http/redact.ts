const MASK = '***';

// Shapes that carry a secret whatever its value: query parameters, JSON fields, auth headers.
const PATTERNS: readonly [RegExp, string][] = [
  [/([?&](?:sessionId|sessionID|session_id|token|oauth_token|password)=)[^&\s"']+/gi, `$1${MASK}`],
  [
    /("(?:password|token|sessionId|accessToken|accessSecret|consumerSecret|oauth_token|authTicket)"\s*:\s*)"[^"]*"/gi,
    `$1"${MASK}"`,
  ],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, `$1${MASK}`],
  [/(oauth_(?:token|signature|nonce)=")[^"]*"/g, `$1${MASK}"`],
  [/(\[SessionId\s*=\s*)[^\]]*\]/gi, `$1${MASK}]`],
  [/(Account(?:Name|Id)\s*=\s*')[^']*'/g, `$1${MASK}'`],
];

/**
 * Removes secrets from text before it reaches a log line, an error, a node status or MQTT.
 * Known values (passwords, tokens, session ids, user names) are registered as they appear;
 * well-known shapes are masked even when their value was never registered.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Remembers a value to mask from now on; short values are ignored (they would mask ordinary words). */
  add(...values: (string | undefined | null)[]): void {
    for (const value of values) if (value && value.length >= 4) this.secrets.add(value);
  }

  clean(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join(MASK);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }
}
