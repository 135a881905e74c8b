import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

/**
 * What an EventBridge Pipe does with one DynamoDB stream record and an input template: replaces each
 * `<$.dynamodb.NewImage.attr.S|N>` with that attribute's value, JSON-escaped inside the quotes the template
 * puts around it. Lets tests check the writer, the template and the consumer's envelope parser together.
 */
export function renderPipeTemplate(template: string, newImage: Record<string, AttributeValue>): string {
  return template.replace(
    /<\$\.dynamodb\.NewImage\.([A-Za-z0-9_]+)\.(S|N)>/g,
    (_match, attribute: string, type: 'S' | 'N') => {
      const value = newImage[attribute] as unknown as Record<string, string> | undefined;
      if (!value || value[type] === undefined)
        throw new Error(`The stream record has no ${type} attribute ${attribute}`);
      return JSON.stringify(value[type]).slice(1, -1);
    },
  );
}

/** The NewImage a stream record carries for an item written with the document client. */
export function newImageOf(item: Record<string, unknown>): Record<string, AttributeValue> {
  return marshall(item, { removeUndefinedValues: true });
}
