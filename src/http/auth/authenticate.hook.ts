import type { FastifyReply, FastifyRequest } from 'fastify';
import { findApiKey, presentedKey } from './api-keys.js';
import type { Keyring } from './keyring.js';
import type { Scope } from './scopes.js';

export interface AuthenticatedRequest {
  /** Id of the API key (the `actor` in event metadata); set only for a valid key. */
  apiKeyId?: string;
  apiKeyScopes?: Scope[];
  authFailure?: 'missing' | 'invalid';
}

/**
 * Identifies the caller before anything else runs (rate limits are per key). It never rejects:
 * the route decides (public routes stay open); ApiKeyGuard turns a failure into 401/403.
 */
export function authenticateHook(keyring: Keyring) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (!keyring) return;
    const req = request as FastifyRequest & AuthenticatedRequest;
    const key = presentedKey(request.headers);
    if (!key) {
      req.authFailure = 'missing';
      return;
    }
    const entry = findApiKey(keyring, key);
    if (!entry) {
      req.authFailure = 'invalid';
      return;
    }
    req.apiKeyId = entry.id;
    req.apiKeyScopes = entry.scopes;
  };
}
