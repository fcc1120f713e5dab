import { SetMetadata } from '@nestjs/common';
import type { Scope } from './scopes.js';

export const REQUIRED_SCOPE = 'auth:scope';
export const PUBLIC_ROUTE = 'auth:public';

/**
 * The scope a route needs; enforced by the global ApiKeyGuard. Routes without it need `read` (GET/HEAD)
 * or `admin` (anything else), so a forgotten annotation fails closed.
 */
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);

/** Open without a key (health, metrics, the API document). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
