// `npm pack` / `npm publish` (prepack): refuse to pack a tree that `npm run build` has not built, which
// would ship a package without its JavaScript or its prebundled functions.
import { existsSync } from 'node:fs';

const missing = ['dist/lib/sundown.js', 'dist/lib/sundown.d.ts', 'dist/cli/main.js', 'dist/assets'].filter(
  (f) => !existsSync(f),
);
if (missing.length > 0) {
  console.error(`sundown: ${missing.join(', ')} missing: run npm run build before packing`);
  process.exit(1);
}
