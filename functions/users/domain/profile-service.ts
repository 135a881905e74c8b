import { NotProfileOwnerError, ProfileNotFoundError, VersionConflictError } from './errors';
import type { Clock, ProfileStore } from './ports';
import type { CreateProfileInput, Profile, UpdateProfileInput } from './profile';

/** The group whose members may read and change any profile. */
export const ADMIN_GROUP = 'admins';

/** Who is asking. */
export interface Actor {
  readonly userId: string;
  readonly groups: readonly string[];
}

/** Profile use cases: pure logic over the {@link ProfileStore} port. */
export class ProfileService {
  constructor(
    private readonly store: ProfileStore,
    private readonly clock: Clock = () => new Date(),
  ) {}

  /** Creates the caller's own profile (id = caller's user id). */
  async create(actor: Actor, input: CreateProfileInput): Promise<Profile> {
    const now = this.clock().toISOString();
    const profile: Profile = {
      id: actor.userId,
      email: input.email.toLowerCase(),
      displayName: input.displayName,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await this.store.create(profile);
    return profile;
  }

  async get(actor: Actor, id: string): Promise<Profile> {
    const profileId = resolveId(actor, id);
    assertMayAccess(actor, profileId);
    const profile = await this.store.get(profileId);
    if (!profile) throw new ProfileNotFoundError(profileId);
    return profile;
  }

  /** Whether a profile exists (for trusted internal callers; no ownership check). */
  async exists(id: string): Promise<boolean> {
    return (await this.store.get(id)) !== undefined;
  }

  async update(actor: Actor, id: string, input: UpdateProfileInput): Promise<Profile> {
    const profileId = resolveId(actor, id);
    assertMayAccess(actor, profileId);
    const current = await this.store.get(profileId);
    if (!current) throw new ProfileNotFoundError(profileId);
    if (input.expectedVersion !== undefined && input.expectedVersion !== current.version) {
      throw new VersionConflictError(profileId);
    }
    const updated: Profile = {
      ...current,
      displayName: input.displayName,
      updatedAt: this.clock().toISOString(),
      version: current.version + 1,
    };
    await this.store.update(updated, current.version);
    return updated;
  }
}

function resolveId(actor: Actor, id: string): string {
  return id === 'me' ? actor.userId : id;
}

function assertMayAccess(actor: Actor, profileId: string): void {
  if (actor.userId !== profileId && !actor.groups.includes(ADMIN_GROUP)) throw new NotProfileOwnerError();
}
