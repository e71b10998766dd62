// `npm run budget`: fails when the initial JS of the built app is over budget.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUDGET_BYTES, initialJsSize } from './bundle.mjs';

const dist = join(dirname(dirname(fileURLToPath(import.meta.url))), 'dist');
const { gzipped, files } = await initialJsSize(dist);
for (const f of files) console.log(`${f.file}: ${(f.gzipped / 1024).toFixed(1)} KB gzipped`);
console.log(`initial JS: ${(gzipped / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_BYTES / 1024} KB)`);
if (gzipped > BUDGET_BYTES) {
  console.error('over budget');
  process.exit(1);
}
