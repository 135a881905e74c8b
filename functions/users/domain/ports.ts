import type { Profile } from './profile';

/** Where profiles are kept. Implemented by adapters (DynamoDB) and by an in-memory store in tests. */
export interface ProfileStore {
  get(id: string): Promise<Profile | undefined>;
  /** Inserts a new profile; throws {@link ProfileAlreadyExistsError} if one with the id exists. */
  create(profile: Profile): Promise<void>;
  /**
   * Replaces a profile if its stored version is `expectedVersion`;
   * throws {@link VersionConflictError} if it changed, {@link ProfileNotFoundError} if it is gone.
   */
  update(profile: Profile, expectedVersion: number): Promise<void>;
}

/** Clock port so domain logic is deterministic in tests. */
export type Clock = () => Date;
