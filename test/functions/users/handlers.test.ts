import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as createProfile } from '../../../functions/users/handlers/create-profile';
import { handler as getCustomer } from '../../../functions/users/handlers/get-customer';
import { handler as getProfile } from '../../../functions/users/handlers/get-profile';
import { handler as health } from '../../../functions/users/handlers/health';
import { handler as updateProfile } from '../../../functions/users/handlers/update-profile';
import { apiEvent, lambdaContext, userClaims } from '../api-event';

const ddb = mockClient(DynamoDBDocumentClient);
const ALICE = '11111111-aaaa-bbbb-cccc-000000000001';
const stored = {
  pk: `PROFILE#${ALICE}`,
  id: ALICE,
  email: 'alice@example.com',
  displayName: 'Alice',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 3,
};

beforeEach(() => ddb.reset());

function json(result: { body: string }) {
  return JSON.parse(result.body);
}

describe('POST /profiles', () => {
  it("creates the caller's profile and answers 201 with a location", async () => {
    ddb.on(PutCommand).resolves({});
    const result = await createProfile(
      apiEvent({
        method: 'POST',
        path: '/profiles',
        body: { email: 'Alice@Example.com', displayName: 'Alice' },
        claims: userClaims(ALICE),
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(201);
    expect(result.headers?.location).toBe(`/v1/profiles/${ALICE}`);
    expect(json(result)).toMatchObject({ id: ALICE, email: 'alice@example.com', version: 1 });
    const put = ddb.commandCalls(PutCommand)[0].args[0].input;
    expect(put).toMatchObject({
      TableName: 'users-table-test',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `PROFILE#${ALICE}` },
    });
  });

  it('answers 409 PROFILE_ALREADY_EXISTS when the profile exists', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    const result = await createProfile(
      apiEvent({
        method: 'POST',
        body: { email: 'a@example.com', displayName: 'A' },
        claims: userClaims(ALICE),
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(409);
    expect(json(result).error).toMatchObject({ code: 'PROFILE_ALREADY_EXISTS', requestId: 'req-123' });
  });

  it('answers 400 MALFORMED_JSON for a body that is not JSON, and writes nothing', async () => {
    const result = await createProfile(
      apiEvent({ method: 'POST', rawBody: '{"email": ', claims: userClaims(ALICE) }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(400);
    expect(json(result).error.code).toBe('MALFORMED_JSON');
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('answers 400 VALIDATION_FAILED naming each bad field, and writes nothing', async () => {
    const result = await createProfile(
      apiEvent({
        method: 'POST',
        body: { email: 'not-an-email', displayName: '', admin: true },
        claims: userClaims(ALICE),
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(400);
    const { error } = json(result);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(['email', 'displayName']),
    );
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('answers 401 without an authenticated caller', async () => {
    const result = await createProfile(
      apiEvent({ method: 'POST', body: { email: 'a@example.com', displayName: 'A' } }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(401);
    expect(json(result).error.code).toBe('UNAUTHORIZED');
  });

  it('answers 500 INTERNAL_ERROR without internals when DynamoDB fails unexpectedly', async () => {
    ddb.on(PutCommand).rejects(new Error('socket hang up at TLSSocket.onConnectEnd (node:_tls_wrap:1)'));
    const result = await createProfile(
      apiEvent({
        method: 'POST',
        body: { email: 'a@example.com', displayName: 'A' },
        claims: userClaims(ALICE),
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(500);
    expect(json(result).error.code).toBe('INTERNAL_ERROR');
    expect(result.body).not.toMatch(/socket|node:|at /);
  });

  it("echoes the caller's correlation id, or uses the request id", async () => {
    ddb.on(PutCommand).resolves({});
    const withHeader = await createProfile(
      apiEvent({
        method: 'POST',
        body: { email: 'a@example.com', displayName: 'A' },
        claims: userClaims(ALICE),
        headers: { 'X-Correlation-Id': 'corr-9' },
      }),
      lambdaContext,
    );
    expect(withHeader.headers?.['x-correlation-id']).toBe('corr-9');
    const without = await createProfile(
      apiEvent({
        method: 'POST',
        body: { email: 'a@example.com', displayName: 'A' },
        claims: userClaims(ALICE),
      }),
      lambdaContext,
    );
    expect(without.headers?.['x-correlation-id']).toBe('req-123');
  });
});

describe('GET /profiles/{id}', () => {
  it('returns the caller\'s own profile for "me"', async () => {
    ddb.on(GetCommand, { Key: { pk: `PROFILE#${ALICE}` } }).resolves({ Item: stored });
    const result = await getProfile(
      apiEvent({ pathParameters: { id: 'me' }, claims: userClaims(ALICE) }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual({
      id: ALICE,
      email: 'alice@example.com',
      displayName: 'Alice',
      createdAt: stored.createdAt,
      updatedAt: stored.updatedAt,
      version: 3,
    });
  });

  it('answers 404 PROFILE_NOT_FOUND when there is none', async () => {
    ddb.on(GetCommand).resolves({});
    const result = await getProfile(
      apiEvent({ pathParameters: { id: ALICE }, claims: userClaims(ALICE) }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(404);
    expect(json(result).error.code).toBe('PROFILE_NOT_FOUND');
  });

  it("answers 403 when reading someone else's profile, without reading the table", async () => {
    const result = await getProfile(
      apiEvent({ pathParameters: { id: ALICE }, claims: userClaims('someone-else-0000') }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(403);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('lets a member of the admins group read any profile', async () => {
    ddb.on(GetCommand).resolves({ Item: stored });
    const result = await getProfile(
      apiEvent({ pathParameters: { id: ALICE }, claims: userClaims('admin-0000-0000', ['admins']) }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
  });
});

describe('PUT /profiles/{id}', () => {
  it('updates with the stored version as the write condition', async () => {
    ddb.on(GetCommand).resolves({ Item: stored });
    ddb.on(PutCommand).resolves({});
    const result = await updateProfile(
      apiEvent({
        method: 'PUT',
        pathParameters: { id: 'me' },
        body: { displayName: 'Alice B.', expectedVersion: 3 },
        claims: userClaims(ALICE),
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    expect(json(result)).toMatchObject({ displayName: 'Alice B.', version: 4 });
    expect(ddb.commandCalls(PutCommand)[0].args[0].input.ExpressionAttributeValues).toEqual({
      ':expected': 3,
    });
  });

  it('answers 409 VERSION_CONFLICT for a stale expectedVersion, and writes nothing', async () => {
    ddb.on(GetCommand).resolves({ Item: stored });
    const result = await updateProfile(
      apiEvent({
        method: 'PUT',
        pathParameters: { id: 'me' },
        body: { displayName: 'X', expectedVersion: 2 },
        claims: userClaims(ALICE),
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(409);
    expect(json(result).error.code).toBe('VERSION_CONFLICT');
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('GET /health', () => {
  it('answers 200 without a caller', async () => {
    const result = await health(apiEvent(), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(json(result)).toMatchObject({ status: 'ok' });
  });
});

describe('path parameters', () => {
  it('answers 400 VALIDATION_FAILED for a malformed profile id, without reading the table', async () => {
    const result = await getProfile(
      apiEvent({
        pathParameters: { id: 'x'.repeat(3000) },
        claims: userClaims('admin-0000-0000', ['admins']),
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.code).toBe('VALIDATION_FAILED');
    expect(result.body.length).toBeLessThan(1000);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('answers 404 for PUT on a missing profile, and writes nothing', async () => {
    ddb.on(GetCommand).resolves({});
    const result = await updateProfile(
      apiEvent({
        method: 'PUT',
        pathParameters: { id: 'me' },
        body: { displayName: 'X' },
        claims: userClaims(ALICE),
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(404);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('GET /customers/{id}', () => {
  // orders' HttpCustomerDirectory reads exactly this code as "no profile"; any other 404 is an outage.
  it('answers 404 CUSTOMER_NOT_FOUND when the customer has no profile', async () => {
    ddb.on(GetCommand).resolves({});
    const result = await getCustomer(apiEvent({ pathParameters: { id: ALICE } }), lambdaContext);
    expect(result.statusCode).toBe(404);
    expect(json(result).error.code).toBe('CUSTOMER_NOT_FOUND');
  });

  it('answers 200 with exists: true when the profile exists', async () => {
    ddb.on(GetCommand).resolves({ Item: stored });
    const result = await getCustomer(apiEvent({ pathParameters: { id: ALICE } }), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual({ id: ALICE, exists: true });
  });
});
