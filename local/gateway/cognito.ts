/**
 * API Gateway's Cognito user pool authorizer: verifies access tokens with `jose` against the pool's JWKS
 * (served by the emulator at `/{userPoolId}/.well-known/jwks.json`, fetched once per pool and again only for
 * an unknown key id), checks the issuer, `token_use`, expiry, the client (DescribeUserPoolClient through the
 * SDK) and the route's scopes, and hands the claims to the proxy event as API Gateway formats them.
 */
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { EmulatorEndpoint, LocalIdentity } from '../model';
import { describeError } from './access-log';
import type { Authorization, Refusal } from './authorization';
import { unauthorized } from './authorization';
import type { IncomingRequest } from './request';
import { headerValue } from './request';
import { emulatorClientConfig } from '../aws-clients';

/** Lifetime of cached authorizer results (the Microservice authorizer's resultsCacheTtl). */
const AUTHORIZER_CACHE_MS = 5 * 60_000;
/** Minimum time between two JWKS downloads of one pool when a token names an unknown key. */
const JWKS_REFRESH_MS = 10_000;
/** How long a JWKS download may take. */
const JWKS_TIMEOUT_MS = 10_000;
/** Verified access tokens remembered at most (see verifyToken); the oldest is forgotten first. */
const VERIFIED_TOKENS_KEPT = 1_000;

/** Options of {@link CognitoAuthorizer}. */
export interface CognitoAuthorizerOptions {
  /** The emulator: serves the pools' JWKS and answers DescribeUserPoolClient. */
  readonly emulator: EmulatorEndpoint;
  /** The user pool and its client; tokens of this client skip the client lookup. */
  readonly identity?: LocalIdentity;
  /**
   * Scopes a pre-token-generation trigger would add to an access token with these claims.
   * @default - none
   */
  readonly extraScopes?: (claims: Record<string, unknown>) => Promise<string[]>;
  /** Receives authorizer failures. */
  readonly log: (line: string) => void;
}

/** What the authorizer keeps per user pool: the JWKS (fetched once) and the issuers it accepts. */
interface Pool {
  readonly keys: JWTVerifyGetKey;
  readonly issuers: string[];
}

/** API Gateway's COGNITO_USER_POOLS authorizer for every pool the routes name. */
export class CognitoAuthorizer {
  private readonly pools = new Map<string, Pool>();
  private readonly knownClients = new Map<string, Promise<boolean>>();
  private readonly scopeCache = new Map<string, { scopes: Promise<string[]>; until: number }>();
  /** Claims of tokens whose signature, issuer and use passed, by user pool and token (see verifyToken). */
  private readonly verifiedTokens = new Map<string, JWTPayload>();
  private client?: CognitoIdentityProviderClient;

  /**
   * @param options - the emulator, the app's identity and hooks
   */
  constructor(private readonly options: CognitoAuthorizerOptions) {}

  /**
   * Authorizes a request to a route of a Cognito-authorized method.
   * @param userPoolId - the pool tokens must come from
   * @param requiredScopes - any one of these is required (none: any valid access token)
   * @param request - the request
   * @returns the claims for the proxy event, or the 401/403/500 refusal API Gateway gives
   */
  async authorize(
    userPoolId: string,
    requiredScopes: readonly string[],
    request: IncomingRequest,
  ): Promise<Authorization> {
    const header = headerValue(request.headers, 'authorization')?.trim();
    if (!header) return unauthorized('no Authorization header');
    const token = header.replace(/^Bearer\s+/i, '');
    const verified = await this.verifyToken(userPoolId, token);
    if ('rejection' in verified) return verified;
    const { claims } = verified;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) {
      return {
        ok: false,
        rejection: {
          types: ['EXPIRED_TOKEN', 'UNAUTHORIZED'],
          message: 'The incoming token has expired',
          status: 401,
          reason: 'token expired',
        },
      };
    }
    if (typeof claims.client_id !== 'string') return unauthorized('no client_id claim');
    try {
      if (!(await this.isClientOf(userPoolId, claims.client_id))) {
        return unauthorized(`client ${claims.client_id} is not a client of ${userPoolId}`);
      }
    } catch (error) {
      return this.failure(`client lookup: ${describeError(error)}`);
    }

    let extra: string[];
    try {
      extra = await this.extraScopesOf(token, claims);
    } catch (error) {
      return this.failure(`extraScopes: ${describeError(error)}`);
    }
    const scopes = [...new Set([...String(claims.scope ?? '').split(/\s+/), ...extra].filter(Boolean))];
    if (requiredScopes.length > 0 && !requiredScopes.some((s) => scopes.includes(s))) {
      return {
        ok: false,
        rejection: {
          types: ['ACCESS_DENIED'],
          message: 'Forbidden',
          status: 403,
          reason: `token scopes [${scopes.join(' ')}] lack any of [${requiredScopes.join(' ')}]`,
        },
      };
    }
    return { ok: true, claims: claimsForEvent({ ...claims, scope: scopes.join(' ') }) };
  }

  /** Closes the SDK client's connections (a later lookup opens new ones). */
  close(): void {
    this.client?.destroy();
    this.client = undefined;
  }

  private failure(reason: string): Refusal {
    this.options.log(`authorizer failure: ${reason}`);
    return {
      ok: false,
      rejection: { types: ['AUTHORIZER_FAILURE'], message: 'Internal server error', status: 500, reason },
    };
  }

  private pool(userPoolId: string): Pool {
    let pool = this.pools.get(userPoolId);
    if (!pool) {
      const { emulator } = this.options;
      const base = emulator.endpoint.replace(/\/+$/, '');
      const remote = createRemoteJWKSet(new URL(`${base}/${userPoolId}/.well-known/jwks.json`), {
        timeoutDuration: JWKS_TIMEOUT_MS,
        cooldownDuration: JWKS_REFRESH_MS,
        // Keys of a pool do not change while the emulator runs; an unknown key id refreshes them.
        cacheMaxAge: Number.POSITIVE_INFINITY,
      });
      const poolRegion = /^([a-z]{2}(?:-[a-z]+)+-\d+)_/.exec(userPoolId)?.[1] ?? emulator.region;
      pool = {
        // Cognito signs with a key it names: a token without `kid` is not one of its tokens.
        keys: (header, token) => {
          if (typeof header.kid !== 'string')
            throw new errors.JWKSNoMatchingKey('the token names no key (kid)');
          return remote(header, token);
        },
        // Cognito's issuer (what moto writes) and the emulator's own URL (LocalStack).
        issuers: [`https://cognito-idp.${poolRegion}.amazonaws.com/${userPoolId}`, `${base}/${userPoolId}`],
      };
      this.pools.set(userPoolId, pool);
    }
    return pool;
  }

  /**
   * The claims of an access token of the user pool whose signature, issuer and use have been checked
   * (its expiry is checked on every request). A token that passed is remembered until it expires, as an
   * API Gateway authorizer caches it, so a client sending the same token does not cost an RSA check per call.
   */
  private async verifyToken(
    userPoolId: string,
    token: string,
  ): Promise<{ readonly claims: JWTPayload } | Refusal> {
    const cacheKey = `${userPoolId} ${token}`;
    const remembered = this.verifiedTokens.get(cacheKey);
    if (remembered) return { claims: remembered };
    const pool = this.pool(userPoolId);
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, pool.keys, {
        issuer: pool.issuers,
        algorithms: ['RS256'],
      }));
    } catch (error) {
      // Signature and issuer passed (jose checks the expiry last): the caller answers "expired" for an
      // access token.
      if (error instanceof errors.JWTExpired) {
        const expired = error.payload;
        if (expired.token_use !== 'access') return notAccess(expired);
        return { claims: expired };
      }
      if (isKeyFailure(error)) return this.failure(`JWKS of ${userPoolId}: ${describeError(error)}`);
      return unauthorized(error instanceof Error ? error.message : String(error));
    }
    if (claims.token_use !== 'access') return notAccess(claims);
    if (typeof claims.exp === 'number' && claims.exp * 1000 > Date.now()) {
      // Forget the oldest when full (Maps iterate in insertion order); an expired one left in is refused anyway.
      if (this.verifiedTokens.size >= VERIFIED_TOKENS_KEPT) {
        this.verifiedTokens.delete(this.verifiedTokens.keys().next().value as string);
      }
      this.verifiedTokens.set(cacheKey, claims);
    }
    return { claims };
  }

  private isClientOf(userPoolId: string, clientId: string): Promise<boolean> {
    const { identity } = this.options;
    if (identity && identity.userPoolId === userPoolId && identity.userPoolClientId === clientId) {
      return Promise.resolve(true);
    }
    const cacheKey = `${userPoolId}/${clientId}`;
    let known = this.knownClients.get(cacheKey);
    if (!known) {
      known = this.cognito()
        .send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }))
        .then(
          () => true,
          (error: unknown) => {
            this.knownClients.delete(cacheKey);
            if (error instanceof Error && error.name === 'ResourceNotFoundException') return false;
            throw error;
          },
        );
      this.knownClients.set(cacheKey, known);
    }
    return known;
  }

  private cognito(): CognitoIdentityProviderClient {
    const { emulator } = this.options;
    return (this.client ??= new CognitoIdentityProviderClient(emulatorClientConfig(emulator)));
  }

  private extraScopesOf(token: string, claims: JWTPayload): Promise<string[]> {
    const { extraScopes } = this.options;
    if (!extraScopes) return Promise.resolve([]);
    const now = Date.now();
    for (const [key, entry] of this.scopeCache) if (entry.until <= now) this.scopeCache.delete(key);
    const cached = this.scopeCache.get(token);
    if (cached) return cached.scopes;
    const scopes = extraScopes(claims);
    const until = Math.min(now + AUTHORIZER_CACHE_MS, Number(claims.exp) * 1000);
    this.scopeCache.set(token, { scopes, until });
    scopes.catch(() => this.scopeCache.delete(token));
    return scopes;
  }
}

function notAccess(claims: JWTPayload): Refusal {
  return unauthorized(`token_use is ${String(claims.token_use)}, not access`);
}

/**
 * Whether verification failed for want of the pool's keys (the JWKS could not be fetched or read: the
 * authorizer fails, 500) rather than because of the token (401).
 */
function isKeyFailure(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true;
  return (
    error.code === 'ERR_JOSE_GENERIC' ||
    error.code === 'ERR_JWKS_TIMEOUT' ||
    error.code === 'ERR_JWKS_INVALID'
  );
}

/**
 * Claims as API Gateway's Cognito authorizer passes them: every value a string, lists comma-separated,
 * `exp`/`iat` as Java-style dates (`Sun Nov 22 01:12:45 UTC 2026`).
 */
function claimsForEvent(claims: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined || value === null) continue;
    if ((name === 'exp' || name === 'iat') && typeof value === 'number') out[name] = javaDate(value);
    else if (Array.isArray(value)) out[name] = value.map(String).join(',');
    else if (typeof value === 'object') out[name] = JSON.stringify(value);
    else out[name] = String(value);
  }
  return out;
}

function javaDate(epochSeconds: number): string {
  // toUTCString gives "Sun, 22 Nov 2026 01:12:45 GMT".
  const [weekday, day, month, year, time] = new Date(epochSeconds * 1000)
    .toUTCString()
    .replace(',', '')
    .split(' ');
  return `${weekday} ${month} ${day} ${time} UTC ${year}`;
}
