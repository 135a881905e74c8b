import { compileJsonSchema, JsonSchemaError, validateJsonSchema } from '../../local/json-schema';

/** PlaceOrderInput as RequestSchema.fromZod renders it (draft 4). */
const placeOrder = {
  schema: 'http://json-schema.org/draft-04/schema#',
  type: 'object',
  properties: {
    lines: {
      minItems: 1,
      maxItems: 2,
      type: 'array',
      items: {
        type: 'object',
        properties: {
          sku: { type: 'string', pattern: '^[A-Z0-9][A-Z0-9-]{1,39}$' },
          quantity: { type: 'integer', minimum: 1, maximum: 1000 },
        },
        required: ['sku', 'quantity'],
        additionalProperties: false,
      },
    },
  },
  required: ['lines'],
  additionalProperties: false,
};

const profile = {
  type: 'object',
  properties: {
    email: { type: 'string', maxLength: 254, format: 'email' },
    displayName: { type: 'string', minLength: 1, maxLength: 5 },
  },
  required: ['email', 'displayName'],
};

describe('validateJsonSchema', () => {
  it('accepts a valid document', () => {
    expect(validateJsonSchema(placeOrder, { lines: [{ sku: 'SKU-1', quantity: 2 }] })).toEqual([]);
  });

  it('reports missing required properties and additional properties with their pointers', () => {
    expect(validateJsonSchema(placeOrder, { extra: 1 })).toEqual([
      '/: is missing required properties ["lines"]',
      '/extra: is not allowed (additionalProperties)',
    ]);
  });

  it('checks items, integer, minimum, maximum and pattern', () => {
    const errors = validateJsonSchema(placeOrder, {
      lines: [
        { sku: 'bad sku', quantity: 0 },
        { sku: 'SKU-2', quantity: 1.5, note: 'x' },
      ],
    });
    expect(errors).toEqual([
      '/lines/0/sku: must match the pattern ^[A-Z0-9][A-Z0-9-]{1,39}$',
      '/lines/0/quantity: must be >= 1',
      '/lines/1/quantity: must be integer, got number',
      '/lines/1/note: is not allowed (additionalProperties)',
    ]);
    expect(validateJsonSchema(placeOrder, { lines: [{ sku: 'AB', quantity: 1001 }] })).toEqual([
      '/lines/0/quantity: must be <= 1000',
    ]);
  });

  it('checks minItems and maxItems', () => {
    expect(validateJsonSchema(placeOrder, { lines: [] })).toEqual(['/lines: must have at least 1 items']);
    const three = Array.from({ length: 3 }, () => ({ sku: 'AB', quantity: 1 }));
    expect(validateJsonSchema(placeOrder, { lines: three })).toEqual(['/lines: must have at most 2 items']);
  });

  it('checks string lengths in characters and ignores format like API Gateway', () => {
    expect(validateJsonSchema(profile, { email: 'not-an-email', displayName: '😀😀😀😀😀' })).toEqual([]);
    expect(validateJsonSchema(profile, { email: 'a@b.c', displayName: '' })).toEqual([
      '/displayName: must be at least 1 characters long',
    ]);
    expect(validateJsonSchema(profile, { email: 'a@b.c', displayName: 'toolong' })).toEqual([
      '/displayName: must be at most 5 characters long',
    ]);
  });

  it('checks types, including the root and type lists', () => {
    expect(validateJsonSchema(placeOrder, [])).toEqual(['/: must be object, got array']);
    expect(validateJsonSchema(placeOrder, null)).toEqual(['/: must be object, got null']);
    expect(validateJsonSchema({ type: 'number' }, 1.5)).toEqual([]);
    expect(validateJsonSchema({ type: 'number' }, '1')).toEqual(['/: must be number, got string']);
    expect(validateJsonSchema({ type: 'boolean' }, true)).toEqual([]);
    expect(validateJsonSchema({ type: 'boolean' }, 'true')).toEqual(['/: must be boolean, got string']);
    expect(validateJsonSchema({ type: ['string', 'null'] }, null)).toEqual([]);
    expect(validateJsonSchema({ type: 'integer' }, 3)).toEqual([]);
  });

  it('checks enum with deep equality', () => {
    const schema = { enum: ['a', 1, { x: [1] }] };
    expect(validateJsonSchema(schema, 'a')).toEqual([]);
    expect(validateJsonSchema(schema, { x: [1] })).toEqual([]);
    expect(validateJsonSchema(schema, 'b')).toEqual(['/: must be one of ["a",1,{"x":[1]}]']);
  });

  it('supports draft-4 exclusive bounds, additionalProperties schemas and combinators', () => {
    expect(validateJsonSchema({ minimum: 0, exclusiveMinimum: true }, 0)).toEqual(['/: must be > 0']);
    expect(validateJsonSchema({ maximum: 1, exclusiveMaximum: true }, 0.5)).toEqual([]);
    expect(
      validateJsonSchema({ type: 'object', additionalProperties: { type: 'string' } }, { a: 1 }),
    ).toEqual(['/a: must be string, got integer']);
    expect(validateJsonSchema({ anyOf: [{ type: 'string' }, { type: 'integer' }] }, true)).toEqual([
      '/: must match at least one schema of anyOf',
    ]);
    expect(validateJsonSchema({ oneOf: [{ type: 'number' }, { type: 'integer' }] }, 1)).toEqual([
      '/: must match exactly one schema of oneOf (matched 2)',
    ]);
    expect(validateJsonSchema({ allOf: [{ minLength: 2 }, { maxLength: 3 }] }, 'abcd')).toEqual([
      '/: must be at most 3 characters long',
    ]);
    expect(validateJsonSchema({ not: { type: 'null' } }, null)).toEqual([
      '/: must not match the schema of not',
    ]);
    expect(validateJsonSchema({ uniqueItems: true }, [1, { a: 1 }, { a: 1 }])).toEqual([
      '/: must not contain duplicate items',
    ]);
  });

  it('escapes property names in pointers', () => {
    expect(validateJsonSchema({ type: 'object', additionalProperties: false }, { 'a/b~c': 1 })).toEqual([
      '/a~1b~0c: is not allowed (additionalProperties)',
    ]);
  });

  it('reports only the type when a value has the wrong type, and only the combinator of failed branches', () => {
    expect(validateJsonSchema({ type: 'string', enum: ['a'], allOf: [{ minLength: 2 }] }, 3)).toEqual([
      '/: must be string, got integer',
    ]);
    expect(
      validateJsonSchema(
        {
          anyOf: [
            { type: 'string', minLength: 9 },
            { type: 'object', required: ['a'] },
          ],
        },
        'x',
      ),
    ).toEqual(['/: must match at least one schema of anyOf']);
  });

  it('resolves local $ref, checks tuples and draft-4 dependencies', () => {
    const schema = {
      definitions: { sku: { type: 'string', pattern: '^SKU-' } },
      type: 'object',
      properties: {
        sku: { $ref: '#/definitions/sku' },
        pair: { items: [{ type: 'integer' }], additionalItems: false },
      },
      dependencies: { sku: ['pair'] },
    };
    expect(validateJsonSchema(schema, { sku: 'SKU-1', pair: [1] })).toEqual([]);
    expect(validateJsonSchema(schema, { sku: 'x' })).toEqual([
      '/: must have property "pair" when property "sku" is present',
      '/sku: must match the pattern ^SKU-',
    ]);
    expect(validateJsonSchema(schema, { pair: [1, 2, 3] })).toEqual([
      '/pair/1: is not allowed (additionalItems)',
      '/pair/2: is not allowed (additionalItems)',
    ]);
  });

  it('compiles a schema once and reuses the validator for equal documents', () => {
    const first = compileJsonSchema({ type: 'object', required: ['a', 'b'] });
    expect(compileJsonSchema({ type: 'object', required: ['a', 'b'] })).toBe(first);
    expect(first({})).toEqual(['/: is missing required properties ["a","b"]']);
  });

  it('accepts patterns that are not valid Unicode regular expressions, and refuses schemas Ajv cannot compile', () => {
    expect(validateJsonSchema({ type: 'string', pattern: '^a\\-b$' }, 'a-b')).toEqual([]);
    expect(() => compileJsonSchema({ $ref: 'https://example.com/models/Other' })).toThrow(JsonSchemaError);
  });
});
