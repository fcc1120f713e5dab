/** The routes Fastify registered, to answer 405 + Allow (Fastify itself answers 404 for a known path with another method). */
export class RouteTable {
  private readonly routes: { method: string; pattern: RegExp; url: string }[] = [];

  add(methods: string | string[], url: string): void {
    const pattern = new RegExp(
      `^${url
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/')}/?$`,
    );
    for (const method of [methods].flat()) this.routes.push({ method: method.toUpperCase(), pattern, url });
  }

  /** Methods registered for this path (empty when no route matches the path at all). */
  allowedMethods(path: string): string[] {
    return [...new Set(this.routes.filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
  }

  list(): { method: string; url: string }[] {
    return this.routes.map(({ method, url }) => ({ method, url }));
  }
}
