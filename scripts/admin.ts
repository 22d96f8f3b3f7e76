/** Entry point of `npm run admin`: the only place the CLI reads the environment. */
import { runAdmin } from './admin/cli.js';

const code = await runAdmin(
  process.argv.slice(2),
  { url: process.env.HOMENODE_URL, token: process.env.HOMENODE_TOKEN },
  { out: (t) => console.log(t), err: (t) => console.error(t) },
);
process.exitCode = code;
