/** Builds the dashboard once before the browser tests (the server serves `dist/web`). */
import { buildWeb } from '../../scripts/build-web.js';

export default async function setup(): Promise<void> {
  await buildWeb();
}
