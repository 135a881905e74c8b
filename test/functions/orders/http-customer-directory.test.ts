import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpCustomerDirectory } from '../../../functions/orders/adapters/http-customer-directory';
import { DependencyUnavailableError, ErrorKind } from '../../../functions/shared/errors';
import { ServiceClient } from '../../../functions/shared/resilience/service-client';

/** The users API stand-in: each test says what GET /v1/customers/{id} answers. */
let server: Server;
let baseUrl: string;
let answer: (res: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function directory(): HttpCustomerDirectory {
  return new HttpCustomerDirectory(
    new ServiceClient({
      name: 'users',
      baseUrl,
      region: 'eu-west-1',
      credentials: () => Promise.resolve({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }),
      retry: { sleep: () => Promise.resolve() },
    }),
  );
}

function json(status: number, body: unknown) {
  return (res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

describe('HttpCustomerDirectory', () => {
  it('says a customer exists when users answers 200', async () => {
    answer = json(200, { id: 'c-1', exists: true });
    await expect(directory().exists('c-1')).resolves.toBe(true);
  });

  it("says a customer has no profile only on users' own 404 CUSTOMER_NOT_FOUND", async () => {
    answer = json(404, { error: { code: 'CUSTOMER_NOT_FOUND', message: 'No customer c-1', requestId: 'r' } });
    await expect(directory().exists('c-1')).resolves.toBe(false);
  });

  it.each([
    ['the gateway answers 404 ROUTE_NOT_FOUND (a stale URL)', { error: { code: 'ROUTE_NOT_FOUND' } }],
    ['a 404 carries an unknown error code', { error: { code: 'PROFILE_NOT_FOUND' } }],
    ['a 404 carries a body that is not an error', { message: 'Not Found' }],
  ])('fails with 503 DEPENDENCY_UNAVAILABLE when %s', async (_case, body) => {
    answer = json(404, body);
    const failure = directory().exists('c-1');
    await expect(failure).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(failure).rejects.toMatchObject({
      kind: ErrorKind.UNAVAILABLE,
      code: 'DEPENDENCY_UNAVAILABLE',
    });
  });

  it('fails with 503 DEPENDENCY_UNAVAILABLE when a 404 has no body', async () => {
    answer = (res) => res.writeHead(404).end();
    await expect(directory().exists('c-1')).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
  });
});
