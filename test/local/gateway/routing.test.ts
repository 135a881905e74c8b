import { RouteTable } from '../../../local/gateway/routing';
import type { LocalRoute } from '../../../local/model';

function route(method: string, resourcePath: string, service = 'orders'): LocalRoute {
  return {
    service,
    method,
    resourcePath,
    authorization: { type: 'NONE' },
    functionKey: `${method} ${resourcePath}`,
    requiredParameters: [],
    validateBody: false,
    stage: 'v1',
  };
}

const table = new RouteTable([
  route('GET', '/orders/{id}'),
  route('DELETE', '/orders/{id}'),
  route('GET', '/orders/search'),
  route('ANY', '/files/{path+}'),
  route('GET', '/'),
  route('GET', '/health', 'users'),
]);

describe('RouteTable', () => {
  it('prefers literal segments over parameters, position by position', () => {
    expect(table.match('orders', 'GET', '/orders/search')?.route?.resourcePath).toBe('/orders/search');
    expect(table.match('orders', 'GET', '/orders/42')).toEqual({
      route: expect.objectContaining({ resourcePath: '/orders/{id}', method: 'GET' }),
      pathParameters: { id: '42' },
      path: '/orders/42',
    });
  });

  it('accepts the stage segment or its absence', () => {
    expect(table.match('orders', 'GET', '/v1/orders/42')?.path).toBe('/orders/42');
    expect(table.match('orders', 'GET', '/v1')?.route?.resourcePath).toBe('/');
  });

  it('picks the method of the resource, and reports a resource without the method', () => {
    expect(table.match('orders', 'DELETE', '/orders/42')?.route?.method).toBe('DELETE');
    const put = table.match('orders', 'PUT', '/orders/42');
    expect(put).toBeDefined();
    expect(put?.route).toBeUndefined();
  });

  it('matches greedy parameters and ANY for the methods API Gateway serves only', () => {
    expect(table.match('orders', 'PATCH', '/files/a/b/c')).toMatchObject({
      route: { resourcePath: '/files/{path+}' },
      pathParameters: { path: 'a/b/c' },
    });
    expect(table.match('orders', 'PROPFIND', '/files/a')?.route).toBeUndefined();
    expect(table.match('orders', 'GET', '/files')).toBeUndefined();
  });

  it('keeps services apart and knows which it serves', () => {
    expect(table.match('users', 'GET', '/orders/42')).toBeUndefined();
    expect(table.match('payments', 'GET', '/health')).toBeUndefined();
    expect([...table.serviceNames].sort()).toEqual(['orders', 'users']);
    expect(table.has('users')).toBe(true);
  });
});
