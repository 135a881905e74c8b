import { ConflictError, ForbiddenError, NotFoundError } from '../../shared/errors';

export class ProfileNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('PROFILE_NOT_FOUND', `No profile with id ${id}`);
  }
}

export class ProfileAlreadyExistsError extends ConflictError {
  constructor(id: string) {
    super('PROFILE_ALREADY_EXISTS', `A profile with id ${id} already exists`);
  }
}

export class VersionConflictError extends ConflictError {
  constructor(id: string) {
    super('VERSION_CONFLICT', `Profile ${id} was changed by someone else; read it again and retry`);
  }
}

export class NotProfileOwnerError extends ForbiddenError {
  constructor() {
    super('Only the profile owner or an administrator can do this');
  }
}
