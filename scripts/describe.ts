/**
 * `npm run describe`: a thin call of `cdk-microservices describe` — synthesizes the reference system (`SHOP_ENV`,
 * default `local`) with cdk.json's app command and prints stacks, resources, routes and registry entries.
 */
import { main } from '../local/cli/index';

const env = process.env.SHOP_ENV ? ['--env', process.env.SHOP_ENV] : [];
main(['describe', ...env, ...process.argv.slice(2)]).then((code) => process.exit(code));
