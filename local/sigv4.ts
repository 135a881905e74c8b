import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../functions/shared/resilience/sha256';

/** How long AWS accepts a SigV4 date away from its clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** The fields of an `Authorization: AWS4-HMAC-SHA256 ...` header. */
export interface SigV4Header {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: string[];
  readonly signature: string;
}

/** Parses an `Authorization` header; undefined when it is not a well-formed SigV4 one. */
export function parseSigV4(header: string): SigV4Header | undefined {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(header.trim());
  if (!match) return undefined;
  const fields = new Map<string, string>();
  for (const part of match[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential')?.split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (
    !credential ||
    credential.length !== 5 ||
    credential[4] !== 'aws4_request' ||
    !signedHeaders ||
    !signature
  ) {
    return undefined;
  }
  return {
    accessKeyId: credential[0],
    region: credential[2],
    service: credential[3],
    signedHeaders: signedHeaders.split(';').map((h) => h.toLowerCase()),
    signature,
  };
}

/** `20261122T011245Z` → Date. */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/** Constant-time comparison of two strings. */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A signed request as received. */
export interface SignedRequest {
  readonly method: string;
  /** The path as sent (without the query). */
  readonly path: string;
  readonly query: Readonly<Record<string, string[]>>;
  /** Header values by lower-case name. */
  readonly header: (name: string) => readonly string[] | undefined;
  readonly body: Buffer;
}

/**
 * Checks a request's SigV4 signature as AWS does: a valid X-Amz-Date within the allowed skew, `host` and
 * `x-amz-date` signed, the payload hash (when sent) matching the body, and the signature recomputed with the
 * caller's secret over the headers it signed. Resolves to undefined when it holds, or to why it does not.
 */
export async function verifySigV4(
  request: SignedRequest,
  parsed: SigV4Header,
  secretAccessKey: string,
): Promise<string | undefined> {
  const { accessKeyId, region, service, signedHeaders, signature } = parsed;
  const first = (name: string) => request.header(name)?.[0];
  const amzDate = first('x-amz-date');
  const signingDate = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!signingDate) return 'no valid X-Amz-Date header';
  if (!signedHeaders.includes('x-amz-date') || !signedHeaders.includes('host')) {
    return 'host and x-amz-date must be signed';
  }
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
    return `signature expired (X-Amz-Date ${amzDate})`;
  }
  const contentHash = first('x-amz-content-sha256');
  if (
    contentHash !== undefined &&
    contentHash !== 'UNSIGNED-PAYLOAD' &&
    contentHash !== createHash('sha256').update(request.body).digest('hex')
  ) {
    return 'x-amz-content-sha256 does not match the body';
  }
  const headerEntries: Array<[string, string]> = [];
  for (const name of signedHeaders) {
    const values = request.header(name);
    if (values === undefined) return `signed header ${name} is missing`;
    headerEntries.push([name, values.join(',')]);
  }
  // Own keys whatever the client named (a signed header `__proto__` is a header like any other).
  const headers = Object.fromEntries(headerEntries);
  const sessionToken = signedHeaders.includes('x-amz-security-token')
    ? first('x-amz-security-token')
    : undefined;
  const signer = new SignatureV4({
    service,
    region,
    credentials: { accessKeyId, secretAccessKey, sessionToken },
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: request.path,
      query: request.query as Record<string, string[]>,
      headers,
      body: request.body.length > 0 ? request.body : undefined,
    },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const expected = parseSigV4(String(signed.headers.authorization ?? signed.headers.Authorization));
  if (
    !expected ||
    expected.signedHeaders.join(';') !== signedHeaders.join(';') ||
    !sameText(expected.signature, signature)
  ) {
    return 'signature mismatch';
  }
  return undefined;
}
