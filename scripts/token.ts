/** `npm run -s token -- <username>`: a thin call of `cdk-microservices token` (a demo user's access token). */
import { main } from '../local/cli/index';

main(['token', ...process.argv.slice(2)]).then((code) => process.exit(code));
