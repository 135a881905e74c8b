/** `npm run -s token -- <username>`: prints an access token for a demo user of the running `npm start`. */
import * as fs from 'node:fs';
// This machine may run Node 20; the SDK's notice that its 2027 releases need Node 22 is not actionable here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import * as path from 'node:path';
import type { RuntimeInfo } from '../local/token';
import { RUNTIME_INFO_FILE, signIn } from '../local/token';

async function main(): Promise<void> {
  const file = path.join(__dirname, '..', RUNTIME_INFO_FILE);
  if (!fs.existsSync(file)) throw new Error('The local runtime is not running: start it with `npm start`.');
  const info = JSON.parse(fs.readFileSync(file, 'utf8')) as RuntimeInfo;
  const username = process.argv[2] ?? 'demo@example.com';
  const user = info.users.find((u) => u.username === username);
  if (!user)
    throw new Error(
      `Unknown demo user ${username}: use one of ${info.users.map((u) => u.username).join(', ')}`,
    );
  process.stdout.write(
    `${await signIn(info.emulator, info.userPoolClientId, user.username, user.password)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
