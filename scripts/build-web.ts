/**
 * Builds the dashboard: bundles `enroll-server/web/main.ts` and `styles.css` (with xterm.js and its
 * CSS from node_modules) with esbuild into `dist/web/assets/` under content-hashed names, and writes
 * `dist/web/index.html` pointing at them, and renders `docs/troubleshooting.md` to
 * `dist/web/docs/troubleshooting.html` (served at `/docs/troubleshooting`). `npm start` and the e2e tests run it; no CDN, no inline code.
 *
 *   tsx scripts/build-web.ts [--out DIR] [--dev]
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { guidePage } from '../enroll-server/web/markdown.js';

const ROOT = join(import.meta.dirname, '..');
const WEB = join(ROOT, 'enroll-server', 'web');

export async function buildWeb(
  outDir = join(ROOT, 'dist', 'web'),
  dev = false,
): Promise<{ outDir: string; files: string[] }> {
  await rm(outDir, { recursive: true, force: true });
  const assets = join(outDir, 'assets');
  await mkdir(assets, { recursive: true });
  const result = await build({
    entryPoints: { app: join(WEB, 'main.ts'), style: join(WEB, 'styles.css') },
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    outdir: assets,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    minify: !dev,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'linked',
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const script = outputs.find((f) => /^app-.*\.js$/.test(f));
  const style = outputs.find((f) => /^style-.*\.css$/.test(f));
  if (!script || !style)
    throw new Error(`esbuild produced no app bundle or stylesheet: ${outputs.join(', ')}`);
  const template = await readFile(join(WEB, 'index.html'), 'utf8');
  await writeFile(
    join(outDir, 'index.html'),
    template.replace('{{script}}', `/assets/${script}`).replace('{{style}}', `/assets/${style}`),
  );
  await mkdir(join(outDir, 'docs'));
  const guide = await readFile(join(ROOT, 'docs', 'troubleshooting.md'), 'utf8');
  await writeFile(join(outDir, 'docs', 'troubleshooting.html'), guidePage(guide, `/assets/${style}`));
  return {
    outDir,
    files: ['index.html', 'docs/troubleshooting.html', ...outputs.map((f) => `assets/${f}`)],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const out = outIndex >= 0 ? args[outIndex + 1] : undefined;
  const started = Date.now();
  buildWeb(out, args.includes('--dev'))
    .then(({ outDir, files }) =>
      console.log(`dashboard built in ${Date.now() - started} ms → ${outDir} (${files.length} files)`),
    )
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
