/**
 * Routing as API Gateway does it for a REST API: resource paths with `{param}` and greedy `{param+}`
 * segments, literal segments preferred over parameters position by position, `ANY` standing for every method,
 * and the stage segment optional locally (`/{service}/{stage}/...` or `/{service}/...`). Every route is
 * compiled once, when the table is built.
 */
import type { LocalRoute } from '../model';

/** The methods API Gateway serves (`ANY` stands for these); any other method matches no route. */
export const API_GATEWAY_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
]);

type Segment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

/** A route with its resource path compiled. */
interface CompiledRoute {
  readonly route: LocalRoute;
  readonly segments: readonly Segment[];
  /** Upper-case method (`ANY` included). */
  readonly method: string;
  /** One character per segment (0 literal, 1 parameter, 2 greedy): the lowest wins. */
  readonly score: string;
  /** The resource's shape (literals and parameter kinds): routes of one resource share it. */
  readonly shape: string;
}

/** A service's compiled routes. */
interface ServiceRoutes {
  readonly routes: readonly CompiledRoute[];
  /** Stages of the service's routes: a path may start with one. */
  readonly stages: ReadonlySet<string>;
  /** Routes by resource shape: the methods of one resource. */
  readonly byShape: ReadonlyMap<string, readonly CompiledRoute[]>;
}

/** What a path under a service resolved to. */
export interface RouteMatch {
  /** The resource's route for the request's method; undefined when the resource has no such method. */
  readonly route?: LocalRoute;
  /** Path parameters, decoded (`{proxy+}` joins the rest of the path with `/`). */
  readonly pathParameters: Record<string, string>;
  /** Path under the service (and stage), e.g. `/orders/42`. */
  readonly path: string;
}

/** Every service's routes, compiled once, answering which route a request names. */
export class RouteTable {
  private readonly services = new Map<string, ServiceRoutes>();

  /**
   * @param routes - every route of every service
   */
  constructor(routes: readonly LocalRoute[]) {
    const byService = new Map<string, CompiledRoute[]>();
    for (const route of routes) {
      const list = byService.get(route.service) ?? [];
      list.push(compileRoute(route));
      byService.set(route.service, list);
    }
    for (const [service, list] of byService) {
      const byShape = new Map<string, CompiledRoute[]>();
      for (const compiled of list) {
        const same = byShape.get(compiled.shape) ?? [];
        same.push(compiled);
        byShape.set(compiled.shape, same);
      }
      this.services.set(service, {
        routes: list,
        stages: new Set(list.map((c) => c.route.stage)),
        byShape,
      });
    }
  }

  /** The services that have routes. */
  get serviceNames(): ReadonlySet<string> {
    return new Set(this.services.keys());
  }

  /** Whether a service has routes. */
  has(service: string): boolean {
    return this.services.has(service);
  }

  /**
   * Finds the resource a path (under `/{service}`) names: with the stage segment removed when the path starts
   * with a route's stage, else as is. Literal segments win over `{param}` ones, position by position, as in
   * API Gateway; then the resource's method for `method` (or its `ANY` method).
   * @param service - the service (first path segment)
   * @param method - the request's upper-case method
   * @param pathUnderService - the decoded path after `/{service}`
   * @returns undefined when no resource matches
   */
  match(service: string, method: string, pathUnderService: string): RouteMatch | undefined {
    const table = this.services.get(service);
    if (!table) return undefined;
    const parts = pathUnderService.split('/').filter(Boolean);
    const candidates: string[][] = [];
    if (parts.length > 0 && table.stages.has(parts[0])) candidates.push(parts.slice(1));
    candidates.push(parts);
    for (const candidate of candidates) {
      let best: { compiled: CompiledRoute; params: Record<string, string> } | undefined;
      for (const compiled of table.routes) {
        if (best && compiled.score >= best.compiled.score) continue;
        const params = matchSegments(compiled.segments, candidate);
        if (params) best = { compiled, params };
      }
      if (best) {
        const methods = table.byShape.get(best.compiled.shape) ?? [];
        const chosen = methods.find(
          (c) => c.method === method || (c.method === 'ANY' && API_GATEWAY_METHODS.has(method)),
        );
        return { route: chosen?.route, pathParameters: best.params, path: `/${candidate.join('/')}` };
      }
    }
    return undefined;
  }
}

function compileRoute(route: LocalRoute): CompiledRoute {
  const segments = route.resourcePath
    .split('/')
    .filter(Boolean)
    .map((part): Segment => {
      const param = /^\{([^}]+)\}$/.exec(part);
      if (!param) return { kind: 'literal', value: part };
      return param[1].endsWith('+')
        ? { kind: 'greedy', name: param[1].slice(0, -1) }
        : { kind: 'param', name: param[1] };
    });
  return {
    route,
    segments,
    method: route.method.toUpperCase(),
    score: segments.map((s) => (s.kind === 'literal' ? '0' : s.kind === 'param' ? '1' : '2')).join(''),
    // A segment cannot contain '/', and only literals start with L: the shape is unambiguous.
    shape: segments
      .map((s) => (s.kind === 'literal' ? `L${s.value}` : s.kind === 'param' ? 'P' : 'G'))
      .join('/'),
  };
}

function matchSegments(
  segments: readonly Segment[],
  parts: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === 'greedy') {
      if (i >= parts.length) return undefined;
      params[segment.name] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (segment.kind === 'literal' && segment.value !== part) return undefined;
    if (segment.kind === 'param') params[segment.name] = part;
  }
  return parts.length === segments.length ? params : undefined;
}
