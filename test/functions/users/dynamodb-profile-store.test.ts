import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbProfileStore } from '../../../functions/users/adapters/dynamodb-profile-store';
import { ProfileAlreadyExistsError, VersionConflictError } from '../../../functions/users/domain/errors';
import type { Profile } from '../../../functions/users/domain/profile';

const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoDbProfileStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), 'profiles');
const profile: Profile = {
  id: 'u-1',
  email: 'a@example.com',
  displayName: 'A',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 1,
};
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => ddb.reset());

describe('DynamoDbProfileStore', () => {
  it('reads a profile by key with a consistent read', async () => {
    ddb.on(GetCommand).resolves({ Item: { pk: 'PROFILE#u-1', type: 'Profile', ...profile } });
    await expect(store.get('u-1')).resolves.toEqual(profile);
    expect(ddb.commandCalls(GetCommand)[0].args[0].input).toEqual({
      TableName: 'profiles',
      Key: { pk: 'PROFILE#u-1' },
      ConsistentRead: true,
    });
  });

  it('returns undefined for a missing profile', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(store.get('nope')).resolves.toBeUndefined();
  });

  it('creates only if no profile has the key', async () => {
    ddb.on(PutCommand).resolves({});
    await store.create(profile);
    expect(ddb.commandCalls(PutCommand)[0].args[0].input).toEqual({
      TableName: 'profiles',
      Item: { pk: 'PROFILE#u-1', type: 'Profile', ...profile },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('maps a failed create condition to ProfileAlreadyExistsError', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());
    await expect(store.create(profile)).rejects.toBeInstanceOf(ProfileAlreadyExistsError);
  });

  it('updates only if the stored version is the expected one', async () => {
    ddb.on(PutCommand).resolves({});
    await store.update({ ...profile, version: 2 }, 1);
    expect(ddb.commandCalls(PutCommand)[0].args[0].input).toMatchObject({
      ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
      ExpressionAttributeValues: { ':expected': 1 },
      Item: { version: 2 },
    });
  });

  it('maps a failed update condition to VersionConflictError', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());
    await expect(store.update({ ...profile, version: 2 }, 1)).rejects.toBeInstanceOf(VersionConflictError);
  });

  it('lets other DynamoDB errors through unchanged', async () => {
    ddb.on(PutCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    await expect(store.create(profile)).rejects.toThrow('ProvisionedThroughputExceeded');
  });
});
