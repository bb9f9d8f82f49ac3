// @ts-check
// Compiles the server, the shared protocol and their npm packages into ES modules in server/dist.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A file a module loads beside itself, e.g. a worker: `new URL('./name.mjs', import.meta.url)`. */
const BESIDE_REF = /new URL\(\s*['"]\.\/([\w.-]+\.mjs)['"]\s*,\s*import\.meta\.url\s*\)/g;

/**
 * Packages with native code (a binding.gyp: better-sqlite3) stay imports, loaded from node_modules at
 * run time; everything else, npm packages included, is compiled into the bundle, so a start reads and
 * compiles one file instead of hundreds.
 * @type {import('esbuild').Plugin}
 */
const nativePackagesStayImports = {
  name: 'native-packages-stay-imports',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return undefined;
      const parts = args.path.split('/');
      const name = parts.slice(0, args.path.startsWith('@') ? 2 : 1).join('/');
      return hasNativeCode(name, args.resolveDir) ? { path: args.path, external: true } : undefined;
    });
  },
};

/** @type {Map<string, boolean>} */
const nativeCache = new Map();

/**
 * Whether the package `name`, as found from `dir` the way Node finds it, builds native code.
 * @param {string} name
 * @param {string} dir
 */
function hasNativeCode(name, dir) {
  for (let d = dir; ; d = dirname(d)) {
    const pkg = join(d, 'node_modules', name);
    if (existsSync(join(pkg, 'package.json'))) {
      let native = nativeCache.get(pkg);
      if (native === undefined) nativeCache.set(pkg, (native = existsSync(join(pkg, 'binding.gyp'))));
      return native;
    }
    if (dirname(d) === d) return false;
  }
}

/**
 * Workers are plain .mjs (so they start under tsx, vitest and node alike) and may load TypeScript with
 * tsx's `tsImport('./x.ts', import.meta.url)`; in the build that TypeScript is compiled in instead.
 * @type {import('esbuild').Plugin}
 */
const tsImportCompiledIn = {
  name: 'ts-import-compiled-in',
  setup(b) {
    b.onLoad({ filter: /\.mjs$/ }, async (args) => {
      let js = (await readFile(args.path, 'utf8')).replace(
        /\btsImport\(\s*(['"]\.{1,2}\/[^'"]+\.ts['"])\s*,\s*import\.meta\.url\s*\)/g,
        'import($1)',
      );
      if (!/\btsImport\(/.test(js))
        js = js.replace(/^import \{ tsImport \} from ['"]tsx\/esm\/api['"];?$/m, '');
      return { contents: js, loader: 'js' };
    });
  },
};

/** @type {import('esbuild').BuildOptions} */
const common = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Linked maps without the sources (they are in the repository): NODE_OPTIONS=--enable-source-maps
  // shows TypeScript positions in stack traces, at some start-up cost.
  sourcemap: 'linked',
  sourcesContent: false,
  // Bundled CommonJS packages require() Node's built-ins; an ES module has no require of its own.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
};

/**
 * Bundles server/src/main.ts into `outDir`/main.js, and each file it loads beside itself (workers)
 * into `outDir` under its own name. `outDir` must lie inside the repository, where node_modules is.
 * @param {string} [outDir]
 */
export async function buildServer(outDir = join(ROOT, 'server/dist')) {
  await rm(outDir, { recursive: true, force: true });
  const main = await build({
    ...common,
    entryPoints: ['server/src/main.ts'],
    outfile: join(outDir, 'main.js'),
    metafile: true,
    plugins: [nativePackagesStayImports],
  });
  /** @type {Map<string, string>} */
  const beside = new Map();
  for (const input of Object.keys(main.metafile.inputs)) {
    if (!input.startsWith('server/src/')) continue;
    const text = await readFile(join(ROOT, input), 'utf8');
    for (const [, name = ''] of text.matchAll(BESIDE_REF)) {
      const from = join(ROOT, dirname(input), name);
      const seen = beside.get(name);
      if (seen && seen !== from)
        throw new Error(`two files named ${name} load beside the bundle: ${seen}, ${from}`);
      beside.set(name, from);
    }
  }
  for (const from of beside.values()) {
    await build({
      ...common,
      entryPoints: [from],
      outfile: join(outDir, basename(from)),
      plugins: [nativePackagesStayImports, tsImportCompiledIn],
    });
  }
  return { outDir, beside: [...beside.keys()] };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildServer(process.argv[2]);
