import { documentClient } from '../../shared/dynamodb';
import { requiredEnv } from '../../shared/env';
import { DynamoDbProfileStore } from '../adapters/dynamodb-profile-store';
import { ProfileService } from '../domain/profile-service';

/** Wiring of the users service, done once per execution environment. */
export const profiles = new ProfileService(
  new DynamoDbProfileStore(documentClient, requiredEnv('TABLE_NAME')),
);
