import * as z from 'zod/mini';
import '../../shared/schema';

/** A user's profile. Its id is the user's Cognito subject, so a profile belongs to exactly one user. */
export interface Profile {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Incremented on every change; used for optimistic concurrency. */
  readonly version: number;
}

const displayName = z.string().check(z.trim(), z.minLength(1), z.maxLength(80));

/** Body of `POST /profiles`. */
export const CreateProfileInput = z.strictObject({
  email: z.email().check(z.maxLength(254)),
  displayName,
});
export type CreateProfileInput = z.infer<typeof CreateProfileInput>;

/** Body of `PUT /profiles/{id}`. */
export const UpdateProfileInput = z.strictObject({
  displayName,
  /** The version the client last read; the update is refused if the profile changed since. */
  expectedVersion: z.optional(z.int().check(z.minimum(1))),
});
export type UpdateProfileInput = z.infer<typeof UpdateProfileInput>;

/** Profile ids are Cognito subjects (UUIDs) or the literal `me` for the caller. */
export const PROFILE_ID = /^(me|[0-9a-fA-F-]{8,64})$/;

/** Path parameters of `/profiles/{id}` and `/customers/{id}`. */
export const ProfilePath = z.object({
  id: z.string().check(z.regex(PROFILE_ID, 'a user id (UUID) or "me"')),
});
