// `cdk-microservices/kit/schema`: zod/mini set up with English error messages, and the `AnySchema` type.
export * from '../schema';
