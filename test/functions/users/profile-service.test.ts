import {
  NotProfileOwnerError,
  ProfileAlreadyExistsError,
  ProfileNotFoundError,
  VersionConflictError,
} from '../../../functions/users/domain/errors';
import { ProfileService } from '../../../functions/users/domain/profile-service';
import { InMemoryProfileStore } from './in-memory-profile-store';

const alice = { userId: '11111111-aaaa', groups: [] };
const bob = { userId: '22222222-bbbb', groups: [] };
const admin = { userId: '33333333-cccc', groups: ['admins'] };

function setup() {
  let now = Date.parse('2026-11-21T10:00:00Z');
  const store = new InMemoryProfileStore();
  const service = new ProfileService(store, () => new Date((now += 1000)));
  return { store, service };
}

describe('ProfileService', () => {
  it("creates the caller's own profile at version 1 with a normalised e-mail", async () => {
    const { store, service } = setup();
    const profile = await service.create(alice, { email: 'Alice@Example.com', displayName: 'Alice' });
    expect(profile).toEqual({
      id: alice.userId,
      email: 'alice@example.com',
      displayName: 'Alice',
      createdAt: '2026-11-21T10:00:01.000Z',
      updatedAt: '2026-11-21T10:00:01.000Z',
      version: 1,
    });
    expect(store.items.get(alice.userId)).toEqual(profile);
  });

  it('refuses a second profile for the same user', async () => {
    const { service } = setup();
    await service.create(alice, { email: 'a@example.com', displayName: 'A' });
    await expect(service.create(alice, { email: 'b@example.com', displayName: 'B' })).rejects.toBeInstanceOf(
      ProfileAlreadyExistsError,
    );
  });

  it('resolves "me" to the caller', async () => {
    const { service } = setup();
    await service.create(alice, { email: 'a@example.com', displayName: 'A' });
    await expect(service.get(alice, 'me')).resolves.toMatchObject({ id: alice.userId });
  });

  it("does not let one user read another user's profile", async () => {
    const { service } = setup();
    await service.create(alice, { email: 'a@example.com', displayName: 'A' });
    await expect(service.get(bob, alice.userId)).rejects.toBeInstanceOf(NotProfileOwnerError);
  });

  it('lets administrators read any profile', async () => {
    const { service } = setup();
    await service.create(alice, { email: 'a@example.com', displayName: 'A' });
    await expect(service.get(admin, alice.userId)).resolves.toMatchObject({ email: 'a@example.com' });
  });

  it('reports a missing profile as not found', async () => {
    const { service } = setup();
    await expect(service.get(alice, 'me')).rejects.toBeInstanceOf(ProfileNotFoundError);
  });

  it('updates the display name, bumps the version and the update time', async () => {
    const { service, store } = setup();
    await service.create(alice, { email: 'a@example.com', displayName: 'A' });
    const updated = await service.update(alice, 'me', { displayName: 'Alice B.', expectedVersion: 1 });
    expect(updated).toMatchObject({
      displayName: 'Alice B.',
      version: 2,
      createdAt: '2026-11-21T10:00:01.000Z',
      updatedAt: '2026-11-21T10:00:02.000Z',
    });
    expect(store.items.get(alice.userId)?.version).toBe(2);
  });

  it('refuses a stale update (optimistic concurrency) and keeps the stored profile', async () => {
    const { service, store } = setup();
    await service.create(alice, { email: 'a@example.com', displayName: 'A' });
    await service.update(alice, 'me', { displayName: 'First' });
    await expect(
      service.update(alice, 'me', { displayName: 'Stale', expectedVersion: 1 }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect(store.items.get(alice.userId)).toMatchObject({ displayName: 'First', version: 2 });
  });

  it("does not let one user change another user's profile", async () => {
    const { service, store } = setup();
    await service.create(alice, { email: 'a@example.com', displayName: 'A' });
    await expect(service.update(bob, alice.userId, { displayName: 'Hacked' })).rejects.toBeInstanceOf(
      NotProfileOwnerError,
    );
    expect(store.items.get(alice.userId)?.displayName).toBe('A');
  });
});
