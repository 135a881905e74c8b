/** `npm run catalogue`: regenerates docs/events.md from the event contracts and the service definitions. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadEnvironmentConfig } from '../lib/config/environments';
import { renderEventCatalogue } from '../lib/stacks/event-catalogue';
import { shopServices } from '../lib/stacks/shop-system';

const config = loadEnvironmentConfig('dev');
const file = path.join(__dirname, '..', 'docs', 'events.md');
fs.writeFileSync(file, renderEventCatalogue(config.appName, shopServices(config)));
console.log(`Wrote ${path.relative(process.cwd(), file)}`);
