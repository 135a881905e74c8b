import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';
import type { $ZodType } from 'zod/v4/core';

/** Builds API Gateway request models from the same zod schemas the handlers parse with. */
export class RequestSchema {
  /**
   * Converts a zod schema into the JSON Schema draft 4 that API Gateway validates request bodies with,
   * so the gateway and the handler enforce one definition.
   */
  public static fromZod(schema: $ZodType): apigateway.JsonSchema {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
      target: 'draft-04',
      io: 'input',
    }) as Record<string, unknown>;
    return { schema: apigateway.JsonSchemaVersion.DRAFT4, ...(rest as apigateway.JsonSchema) };
  }
}
