/**
 * `npm start`: the reference system on this machine, with no AWS account — a thin call of
 * `cdk-microservices dev` (local/cli/index.ts) on this folder: `PORT` (default 3000), every API on
 * http://127.0.0.1:$PORT/{service}/..., hot reload on. Options are passed through (`npm start -- --no-enforce`).
 */
import { main } from '../local/cli/index';

main(['dev', ...process.argv.slice(2)]).then((code) => {
  if (code !== 0) process.exit(code);
});
