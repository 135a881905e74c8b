import type { IncomingRequest } from '../../../local/gateway/request';
import { RequestValidator } from '../../../local/gateway/validation';
import { JsonSchemaError } from '../../../local/json-schema';
import type { LocalRoute } from '../../../local/model';

function request(overrides: Partial<IncomingRequest> = {}): IncomingRequest {
  return {
    requestId: 'r1',
    method: 'POST',
    rawPath: '/orders/orders',
    calledPath: '/orders/orders',
    rawQuery: '',
    headers: Object.create(null) as Record<string, string>,
    multiValueHeaders: Object.create(null) as Record<string, string[]>,
    query: Object.create(null) as Record<string, string>,
    multiValueQuery: Object.create(null) as Record<string, string[]>,
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    ...overrides,
  };
}

const route: LocalRoute = {
  service: 'orders',
  method: 'POST',
  resourcePath: '/orders',
  authorization: { type: 'NONE' },
  functionKey: 'place-order',
  requiredParameters: ['method.request.header.Idempotency-Key', 'method.request.querystring.customerId'],
  requestSchema: {
    type: 'object',
    required: ['lines'],
    properties: { lines: { type: 'array', minItems: 1 } },
  },
  validateBody: true,
  stage: 'v1',
};

describe('RequestValidator', () => {
  const validator = new RequestValidator(route);
  const complete = {
    headers: Object.assign(Object.create(null) as Record<string, string>, {
      'idempotency-key': 'k-12345678',
    }),
    multiValueQuery: Object.assign(Object.create(null) as Record<string, string[]>, { customerId: ['c1'] }),
  };

  it('lists the missing required parameters (headers whatever their case)', () => {
    expect(validator.validate(request(), {})).toMatchObject({
      types: ['BAD_REQUEST_PARAMETERS'],
      status: 400,
      message: 'Missing required request parameters: [Idempotency-Key, customerId]',
    });
  });

  it('refuses a body that is not JSON or does not match the model, with the validation error string', () => {
    expect(validator.validate(request({ ...complete, body: Buffer.from('{') }), {})).toMatchObject({
      types: ['BAD_REQUEST_BODY'],
      message: 'Invalid request body',
      validationErrorString: '[Invalid JSON in request body]',
    });
    expect(validator.validate(request({ ...complete, body: Buffer.from('{"lines":[]}') }), {})).toMatchObject(
      {
        types: ['BAD_REQUEST_BODY'],
        validationErrorString: '[/lines: must have at least 1 items]',
      },
    );
    expect(
      validator.validate(request({ ...complete, body: Buffer.from('{"lines":[1]}') }), {}),
    ).toBeUndefined();
  });

  it('does not look at the body of a route whose validator does not validate it', () => {
    const lenient = new RequestValidator({ ...route, requiredParameters: [], validateBody: false });
    expect(lenient.validate(request({ body: Buffer.from('{') }), {})).toBeUndefined();
  });

  it('refuses to build for a model Ajv cannot compile', () => {
    expect(
      () => new RequestValidator({ ...route, requestSchema: { $ref: 'https://example.com/m' } }),
    ).toThrow(JsonSchemaError);
  });
});
