/** `cdk-microservices token [<user>]`: an access token of a demo user of the running `dev`, on stdout. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuntimeInfo } from '../token';
import { RUNTIME_INFO_FILE, signIn } from '../token';
import { UserError } from './cdk-app';

/** The file a running `dev` wrote in `dir` or a folder above it. */
export function findRuntimeInfo(dir: string = process.cwd()): RuntimeInfo {
  let folder = path.resolve(dir);
  for (;;) {
    const file = path.join(folder, RUNTIME_INFO_FILE);
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as RuntimeInfo;
    const parent = path.dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  throw new UserError(
    'The local runtime is not running here: start it with `cdk-microservices dev` (npm start) in the app folder.',
  );
}

/** Signs `username` (a demo user of the running `dev`) in and returns the access token. */
export async function tokenFor(username = 'demo@example.com', dir?: string): Promise<string> {
  const info = findRuntimeInfo(dir);
  const user = info.users.find((u) => u.username === username);
  if (!user) {
    throw new UserError(
      `Unknown demo user ${username}: use one of ${info.users.map((u) => u.username).join(', ')}`,
    );
  }
  return signIn(info.emulator, info.userPoolClientId, user.username, user.password);
}
