/**
 * Sent on every response (onRequest, so errors and early rejections carry them too). The CSP allows only
 * same-origin scripts, styles, images and fetches: Swagger UI (/docs) and a same-origin, Vite-built console
 * load their code from files, never inline. `style-src 'unsafe-inline'`: Swagger UI sets style attributes.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
};

export function securityHeaderLines(): string {
  return Object.entries(SECURITY_HEADERS)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
}
