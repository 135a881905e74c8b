/**
 * `npm run check [assembly-dir ...]`: a thin call of `cdk-microservices check` — the deploy-readiness check of
 * each assembly (default: the reference system synthesized for `dev` and `prod`); exits 1 naming each interaction
 * AWS would refuse, 2 on a usage error.
 */
import { main } from '../local/cli/index';

main(['check', ...process.argv.slice(2)]).then((code) => process.exit(code));
