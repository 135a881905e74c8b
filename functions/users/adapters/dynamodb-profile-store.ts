import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ProfileAlreadyExistsError, VersionConflictError } from '../domain/errors';
import type { ProfileStore } from '../domain/ports';
import type { Profile } from '../domain/profile';

/**
 * Profiles in the service's DynamoDB table, one item per profile: `pk = PROFILE#{id}`.
 * Creates are conditional on absence and updates on the stored version, so concurrent writers
 * cannot overwrite each other.
 */
export class DynamoDbProfileStore implements ProfileStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(id: string): Promise<Profile | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: key(id) }, ConsistentRead: true }),
    );
    return Item ? toProfile(Item) : undefined;
  }

  async create(profile: Profile): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(profile),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ProfileAlreadyExistsError(profile.id);
      throw error;
    }
  }

  async update(profile: Profile, expectedVersion: number): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(profile),
          ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(profile.id);
      throw error;
    }
  }
}

function key(id: string): string {
  return `PROFILE#${id}`;
}

function toItem(profile: Profile): Record<string, unknown> {
  return { pk: key(profile.id), type: 'Profile', ...profile };
}

function toProfile(item: Record<string, unknown>): Profile {
  return {
    id: String(item.id),
    email: String(item.email),
    displayName: String(item.displayName),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    version: Number(item.version),
  };
}
