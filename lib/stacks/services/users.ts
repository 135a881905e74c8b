import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { CreateProfileInput, UpdateProfileInput } from '../../../functions/users/domain/profile';
import type { EnvironmentConfig } from '../../config/environments';
import { AccessMode, HttpMethod, RouteAccess } from '../../constructs/microservice';
import { RequestSchema } from '../../constructs/request-schema';
import type { ServiceDefinition } from '../service-stack';
import { serviceDefaults } from './defaults';

const handlers = path.join(__dirname, '..', '..', '..', 'functions', 'users', 'handlers');

/** Scopes the users service's routes require. */
export const USERS_SCOPES = [
  { name: 'users.read', description: 'Read user profiles' },
  { name: 'users.write', description: 'Create and change user profiles' },
];

/** The users service: profiles of signed-in users. */
export function usersService(config: EnvironmentConfig): ServiceDefinition {
  return {
    serviceName: 'users',
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    ...serviceDefaults(config),
    timeout: Duration.seconds(6),
    routes: [
      {
        method: HttpMethod.GET,
        path: '/health',
        entry: path.join(handlers, 'health.ts'),
        access: RouteAccess.PUBLIC,
        throttle: { rateLimit: 10, burstLimit: 20 },
      },
      {
        method: HttpMethod.POST,
        path: '/profiles',
        entry: path.join(handlers, 'create-profile.ts'),
        access: RouteAccess.scopes('users.write'),
        tableAccess: AccessMode.READ_WRITE,
        requestSchema: RequestSchema.fromZod(CreateProfileInput),
      },
      {
        method: HttpMethod.GET,
        path: '/profiles/{id}',
        entry: path.join(handlers, 'get-profile.ts'),
        access: RouteAccess.scopes('users.read'),
        tableAccess: AccessMode.READ,
      },
      {
        method: HttpMethod.PUT,
        path: '/profiles/{id}',
        entry: path.join(handlers, 'update-profile.ts'),
        access: RouteAccess.scopes('users.write'),
        tableAccess: AccessMode.READ_WRITE,
        requestSchema: RequestSchema.fromZod(UpdateProfileInput),
      },
      {
        method: HttpMethod.GET,
        path: '/customers/{id}',
        entry: path.join(handlers, 'get-customer.ts'),
        access: RouteAccess.IAM,
        tableAccess: AccessMode.READ,
      },
    ],
  };
}
