/** What a log line or an error message may show of a URL: never a query value, never a password. */
const MAX_LOGGED_URL = 2_048;

/**
 * `/path?key=value&b` → `/path?key=[redacted]&b`: a client may put a key or a token in a query string
 * (refused, but it reached the log before). The parameter names stay for debugging.
 */
export function redactRequestUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query =
    q < 0
      ? ''
      : `?${url
          .slice(q + 1)
          .split('&')
          .map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=[redacted]` : pair))
          .join('&')}`;
  const out = path + query;
  return out.length > MAX_LOGGED_URL ? `${out.slice(0, MAX_LOGGED_URL)}…` : out;
}

/**
 * Connection strings in free text (config errors, driver messages): `scheme://user:secret@host/db?password=x`
 * → `scheme://user:[redacted]@host/db?password=[redacted]`.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^/\s:@"']*):[^@\s"']*@/gi, '$1:[redacted]@')
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s"']*?)\?[^\s"']*/gi, (_m, base: string) => `${base}?[redacted]`);
}

/**
 * A whole connection-string value that may be malformed (a config error names it): everything before the last
 * `@` (user and password, whatever characters they hold) and the query are replaced.
 */
export function redactUrlValue(value: string): string {
  const scheme = value.indexOf('://');
  if (scheme < 0) return value.includes('@') ? `[redacted]@${value.slice(value.lastIndexOf('@') + 1)}` : value;
  let rest = value.slice(scheme + 3);
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = `[redacted]@${rest.slice(at + 1)}`;
  const q = rest.indexOf('?');
  if (q >= 0) rest = `${rest.slice(0, q)}?[redacted]`;
  return `${value.slice(0, scheme + 3)}${rest}`;
}
