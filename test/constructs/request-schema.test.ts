import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';
import { SetStockInput } from '../../functions/inventory/domain/stock';
import { PlaceOrderInput } from '../../functions/orders/domain/order';
import { RequestSchema } from '../../lib/constructs/request-schema';

const DRAFT4 = 'http://json-schema.org/draft-04/schema#';

describe('RequestSchema.fromZod', () => {
  it('converts the orders body schema to draft 4, strict objects closed and bounds kept', () => {
    expect(RequestSchema.fromZod(PlaceOrderInput)).toEqual({
      schema: DRAFT4,
      type: 'object',
      properties: {
        lines: {
          type: 'array',
          minItems: 1,
          maxItems: 50,
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
    });
  });

  it('converts the inventory stock body schema', () => {
    expect(RequestSchema.fromZod(SetStockInput)).toEqual({
      schema: DRAFT4,
      type: 'object',
      properties: { available: { type: 'integer', minimum: 0, maximum: 1_000_000 } },
      required: ['available'],
      additionalProperties: false,
    });
  });

  it('describes the input side: optional and defaulted fields are not required, enums are listed', () => {
    const schema = z.object({ a: z.string().optional(), b: z.number().default(3), c: z.enum(['x', 'y']) });
    expect(RequestSchema.fromZod(schema)).toEqual({
      schema: DRAFT4,
      type: 'object',
      properties: {
        a: { type: 'string' },
        b: { type: 'number', default: 3 },
        c: { type: 'string', enum: ['x', 'y'] },
      },
      required: ['c'],
    });
  });

  it('drops the JSON Schema $schema key in favour of the CDK schema field', () => {
    const schema = RequestSchema.fromZod(z.object({ a: z.string() })) as unknown as Record<string, unknown>;
    expect(schema.$schema).toBeUndefined();
    expect(schema.schema).toBe(apigateway.JsonSchemaVersion.DRAFT4);
  });

  it('is accepted by an API Gateway model as is', () => {
    const stack = new Stack(new App(), 'Api');
    const api = new apigateway.RestApi(stack, 'Api');
    api.root.addMethod('ANY');
    api.addModel('SetStock', {
      contentType: 'application/json',
      schema: RequestSchema.fromZod(SetStockInput),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: {
        $schema: DRAFT4,
        type: 'object',
        properties: { available: { type: 'integer', minimum: 0, maximum: 1_000_000 } },
        required: ['available'],
        additionalProperties: false,
      },
    });
  });
});
