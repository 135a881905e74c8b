import { ProfileAlreadyExistsError, VersionConflictError } from '../../../functions/users/domain/errors';
import type { ProfileStore } from '../../../functions/users/domain/ports';
import type { Profile } from '../../../functions/users/domain/profile';

/** A real (in-memory) implementation of the ProfileStore port with the same guarantees as the DynamoDB one. */
export class InMemoryProfileStore implements ProfileStore {
  readonly items = new Map<string, Profile>();

  async get(id: string): Promise<Profile | undefined> {
    return this.items.get(id);
  }

  async create(profile: Profile): Promise<void> {
    if (this.items.has(profile.id)) throw new ProfileAlreadyExistsError(profile.id);
    this.items.set(profile.id, profile);
  }

  async update(profile: Profile, expectedVersion: number): Promise<void> {
    if (this.items.get(profile.id)?.version !== expectedVersion) throw new VersionConflictError(profile.id);
    this.items.set(profile.id, profile);
  }
}
