// Gzipped size of the JavaScript the browser loads before any lazy chunk: the entry script(s)
// and modulepreloads named in dist/index.html.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const BUDGET_BYTES = 250 * 1024;

export async function initialJsSize(distDir) {
  const html = await readFile(join(distDir, 'index.html'), 'utf8');
  const urls = new Set();
  for (const match of html.matchAll(/<script[^>]*\bsrc="([^"]+\.js)"/g)) urls.add(match[1]);
  for (const match of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)) urls.add(match[1]);
  if (urls.size === 0) throw new Error('no script found in dist/index.html');
  let gzipped = 0;
  const files = [];
  for (const url of urls) {
    const body = await readFile(join(distDir, url.replace(/^\.?\//, '')));
    const size = gzipSync(body, { level: 9 }).length;
    gzipped += size;
    files.push({ file: url, gzipped: size });
  }
  return { gzipped, files };
}
