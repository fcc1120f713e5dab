export const HEALTH_CACHE = Symbol('HEALTH_CACHE');
