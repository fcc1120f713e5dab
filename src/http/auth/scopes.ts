/** Scopes an API key can hold. `admin` implies every other scope. */
export const SCOPES = ['ingest', 'detect', 'analyze', 'read', 'feedback', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export function hasScope(granted: readonly Scope[], required: Scope): boolean {
  return granted.includes('admin') || granted.includes(required);
}
