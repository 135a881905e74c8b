import { z } from 'zod';

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

const displayName = z.string().trim().min(1).max(80);

/** Body of `POST /profiles`. */
export const CreateProfileInput = z.strictObject({
  email: z.email().max(254),
  displayName,
});
export type CreateProfileInput = z.infer<typeof CreateProfileInput>;

/** Body of `PUT /profiles/{id}`. */
export const UpdateProfileInput = z.strictObject({
  displayName,
  /** The version the client last read; the update is refused if the profile changed since. */
  expectedVersion: z.number().int().min(1).optional(),
});
export type UpdateProfileInput = z.infer<typeof UpdateProfileInput>;

/** Profile ids are Cognito subjects (UUIDs) or the literal `me` for the caller. */
export const PROFILE_ID = /^(me|[0-9a-fA-F-]{8,64})$/;

/** Path parameters of `/profiles/{id}` and `/customers/{id}`. */
export const ProfilePath = z.object({ id: z.string().regex(PROFILE_ID, 'a user id (UUID) or "me"') });
