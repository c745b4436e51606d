// Builds what `virtkit` runs: the wasm CPU core (build/cpu.wasm) from the AssemblyScript sources in
// src/machine/cpu, and the JavaScript of virtkit's TypeScript (one bundle, build/js/virtkit.cjs, with a
// re-exporting module per source in build/js/src/) and of the examples' PD modules (build/js/examples/,
// one module per source file), so that starting `virtkit run` transpiles nothing and loads one file.
// Each part is skipped when it is newer than its sources.
import {
  existsSync,
  mkdirSync,
  statSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { execFileSync } from "node:child_process";
import { join, dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const self = fileURLToPath(import.meta.url);
const cpuDir = join(root, "src/machine/cpu");
const entry = join(cpuDir, "index.ts");
const out = join(root, "build/cpu.wasm");
const jsOut = join(root, "build/js");
/** Folders whose TypeScript is compiled, each to build/js/<folder>. */
const BUILT_FOLDERS = ["src", "examples"];
/** The sources build/js was made from; bin/virtkit.mjs compares their times with this file's. */
const JS_MANIFEST = "manifest.json";
/**
 * The bundle of every module under src/, in build/js, which bin/code-cache.mjs loads with V8's code
 * cache for it. CommonJS: a script, which unlike an ES module Node 20 can compile from a code cache. It
 * includes the npm packages src/ uses (commander, saxes), so their compiled code is cached too.
 */
const BUNDLE = "virtkit.cjs";
/** The bundle's own URL, set by its first line, for its sources' `import.meta.url` (a script has none). */
const BUNDLE_URL = "__virtkitBundleUrl";
/** The folder whose sources are bundled; the others' (the examples' PD modules) stay one module each. */
const BUNDLED_FOLDER = "src/";
const force = process.argv.includes("--force");

function newestSource(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    newest = Math.max(newest, st.isDirectory() ? newestSource(path) : st.mtimeMs);
  }
  return newest;
}

/**
 * asc's inliner keeps the decoder's small helpers (operand fetch, flag setting,
 * the memory-access fast path) as calls; a second binaryen pass with larger
 * inlining limits folds them into their callers, which measured ~15% faster;
 * always-inline 60 (was 40) measured another ~6% on bench:cpu and a faster boot.
 */
async function inlineHotPaths(wasm) {
  const { default: binaryen } = await import("binaryen");
  const module = binaryen.readBinary(readFileSync(wasm));
  module.setFeatures(binaryen.Features.All);
  binaryen.setOptimizeLevel(3);
  binaryen.setShrinkLevel(0);
  binaryen.setAlwaysInlineMaxSize(60);
  binaryen.setFlexibleInlineMaxSize(200);
  module.runPasses(["inlining-optimizing"]);
  module.optimize();
  if (!module.validate()) throw new Error(`build: binaryen produced an invalid ${relative(root, wasm)}`);
  writeFileSync(wasm, module.emitBinary());
  writeFileSync(wasm.replace(/\.wasm$/, ".wat"), module.emitText());
  module.dispose();
}

/**
 * Two builds of the core from the same sources: build/cpu.wasm, the interpreter only, and
 * build/cpu-jit.wasm, whose run loop also enters the JIT tier's translated blocks (`--cpu jit`).
 * JIT_TIER is a compile-time constant (asc --use), so the interpreter's loop has none of the JIT's
 * bookkeeping, which cost it 10-15% on bench:cpu.
 */
const CORE_BUILDS = [
  { wasm: out, jitTier: 0 },
  { wasm: join(root, "build/cpu-jit.wasm"), jitTier: 1 },
];

async function buildCore() {
  const newest = Math.max(newestSource(cpuDir), statSync(self).mtimeMs);
  const stale = CORE_BUILDS.filter(
    ({ wasm }) => force || !existsSync(wasm) || statSync(wasm).mtimeMs < newest,
  );
  if (stale.length === 0) {
    console.log("build: build/cpu.wasm and build/cpu-jit.wasm are up to date");
    return;
  }
  mkdirSync(join(root, "build"), { recursive: true });
  const asc = join(root, "node_modules/assemblyscript/bin/asc.js");
  for (const { wasm, jitTier } of stale) {
    const flags = [
      ...["--outFile", wasm, "--textFile", wasm.replace(/\.wasm$/, ".wat")],
      ...["--optimizeLevel", "3", "--shrinkLevel", "0", "--converge", "--noAssert"],
      // The machine's RAM is one imported WebAssembly.Memory; the core never allocates.
      ...["--runtime", "stub", "--importMemory", "--initialMemory", "1"],
      // The JIT tier (src/machine/cpu/jit) puts translated blocks in the function table.
      "--exportTable",
      ...["--use", `JIT_TIER=${jitTier}`],
      ...["--enable", "simd", "--enable", "bulk-memory"],
    ];
    execFileSync(process.execPath, [asc, entry, ...flags], {
      stdio: "inherit",
    });
    await inlineHotPaths(wasm);
    console.log(`build: wrote ${relative(root, wasm)}`);
  }
}

/**
 * The TypeScript virtkit runs: what tsconfig.json compiles under src/ (not the AssemblyScript core it
 * excludes) and the example systems' PD modules under examples/, as paths relative to the root.
 */
async function typeScriptSources() {
  const { default: ts } = await import("typescript");
  const { config, error } = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile);
  if (error)
    throw new Error(`build: tsconfig.json: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root);
  return parsed.fileNames
    .map((file) => relative(root, file))
    .filter((file) => BUILT_FOLDERS.some((folder) => file.startsWith(`${folder}/`)))
    .sort();
}

function javaScriptUpToDate(sources) {
  const manifest = join(jsOut, JS_MANIFEST);
  if (force || !existsSync(manifest)) return false;
  const built = JSON.parse(readFileSync(manifest, "utf8"));
  if (JSON.stringify(built.sources) !== JSON.stringify(sources)) return false;
  const builtAt = statSync(manifest).mtimeMs;
  return [self, ...sources.map((source) => join(root, source))].every(
    (file) => statSync(file).mtimeMs < builtAt,
  );
}

/**
 * A relative import must name one of the sources the build compiles. Outside the bundle it stays an
 * import of that module (`./x.ts` becomes `./x.js`, under src/ the module re-exporting the bundle's
 * instance), so each module exists once: a PD module and the CLI share every instance.
 */
function sourcesOnly(sources, { external }) {
  const known = new Set(sources.map((source) => join(root, source)));
  return {
    name: "sources-only",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        // An npm package's own files (bundled with src/) are its business.
        if (args.importer.split(/[\\/]/).includes("node_modules")) return undefined;
        if (!known.has(join(args.resolveDir, args.path))) {
          return {
            errors: [{ text: `${args.path} is not one of the TypeScript sources the build compiles` }],
          };
        }
        return external ? { path: args.path.replace(/\.ts$/, ".js"), external: true } : undefined;
      });
    },
  };
}

/**
 * A built module sees `import.meta` as its source does: `new URL("./skeleton", import.meta.url)`,
 * `import.meta.dirname` and `filename` name the source's place, so the files beside it (the guest
 * skeleton, the kernel config fragment, build/cpu.wasm from src/machine, an example's packages) are
 * found where they are. The source's URL is made from the built file's own `import.meta.url` (the
 * bundle's, for a bundled source), so build/js can move with the sources. `builtFile(source)` is where
 * a source's code ends up.
 */
function importMetaOfTheSource(builtFile) {
  return {
    name: "import-meta-of-the-source",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const text = readFileSync(args.path, "utf8");
        if (!/\bimport\.meta\.(url|dirname|filename)\b/.test(text)) return { contents: text, loader: "ts" };
        const fromBuilt = JSON.stringify(relative(dirname(builtFile(args.path)), args.path));
        const prelude = [
          'import { dirname as __virtkitDirname } from "node:path";',
          'import { fileURLToPath as __virtkitPath } from "node:url";',
          `const __virtkitSourceUrl = new URL(${fromBuilt}, import.meta.url).href;`,
        ].join(" ");
        const contents = text
          .replace(/\bimport\.meta\.url\b/g, "__virtkitSourceUrl")
          .replace(/\bimport\.meta\.filename\b/g, "__virtkitPath(__virtkitSourceUrl)")
          .replace(/\bimport\.meta\.dirname\b/g, "__virtkitDirname(__virtkitPath(__virtkitSourceUrl))");
        // On the first line, so a module built apart keeps its source's line numbers.
        return { contents: `${prelude} ${contents}`, loader: "ts" };
      });
    },
  };
}

/** How esbuild builds every part of build/js: ES modules for Node, with npm packages left as imports. */
const ESM_FOR_NODE = {
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
};

/** The name under which the bundle exports a source's binding: unique across sources. */
const bundleExport = (source, name) => `${source}:${name}`;

/**
 * Each bundled source's export names, those of its `export * from` included (esbuild resolves them
 * when bundling; with code splitting every source is an entry whose metafile lists its exports).
 */
async function exportNames(build, bundled) {
  const { metafile } = await build({
    entryPoints: bundled.map((source) => join(root, source)),
    outbase: root,
    outdir: jsOut,
    ...ESM_FOR_NODE,
    splitting: true,
    write: false,
    metafile: true,
  });
  const names = new Map();
  for (const output of Object.values(metafile.outputs)) {
    if (output.entryPoint !== undefined) names.set(output.entryPoint, output.exports);
  }
  return names;
}

/**
 * The bundle's entry: every bundled source's bindings in one object, its default export, each under a
 * name of its own (see bundleExport). A plain object's properties, holding the bindings' values once the
 * bundle has run, rather than the bundle's named exports, which esbuild makes getters of a CommonJS
 * bundle's exports object with two defineProperty calls each (~2,000, several ms of every start).
 */
function bundleEntry(bundled, names) {
  const properties = [];
  const imports = bundled.map((source) => {
    const from = JSON.stringify(`./${source}`);
    if (names.get(source).length === 0) return `import ${from};`;
    const specifiers = names.get(source).map((name) => {
      const local = `$${properties.length}`;
      properties.push(`${JSON.stringify(bundleExport(source, name))}: ${local}`);
      return `${name} as ${local}`;
    });
    return `import { ${specifiers.join(", ")} } from ${from};`;
  });
  return [...imports, `export default { ${properties.join(", ")} };`].join("\n");
}

/**
 * build/js/src/x.js for src/x.ts: the bundle's instance of that module, for the examples' PD modules,
 * users' PD modules (through bin/source-modules.mjs) and anything else importing src/ from the build.
 * It exports the bindings as they are once the bundle has run, which an ES module cannot follow if
 * they change later; no module of src/ assigns an exported `let`.
 */
function reExportingModule(source, names, bundleFile, moduleFile) {
  const from = (file) => {
    const path = relative(dirname(moduleFile), file);
    return JSON.stringify(path.startsWith(".") ? path : `./${path}`);
  };
  const lines = [
    `// ${source}, bundled in build/js/${BUNDLE}: this module is the bundle's instance of it.`,
    `import { loadBundle } from ${from(join(root, "bin/code-cache.mjs"))};`,
    `const { exports: bundle } = loadBundle(new URL(${from(bundleFile)}, import.meta.url));`,
  ];
  if (names.length > 0) {
    const keys = names.map((name, i) => `${JSON.stringify(bundleExport(source, name))}: $${i}`);
    lines.push(`const { ${keys.join(", ")} } = bundle;`);
    lines.push(`export { ${names.map((name, i) => `$${i} as ${name}`).join(", ")} };`);
  }
  return `${lines.join("\n")}\n`;
}

async function buildJavaScript() {
  const sources = await typeScriptSources();
  if (javaScriptUpToDate(sources)) {
    console.log("build: build/js is up to date");
    return;
  }
  const { build } = await import("esbuild");
  // Built aside and moved into place, so a CLI starting meanwhile never sees half a build.
  const scratch = `${jsOut}.${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  const bundled = sources.filter((source) => source.startsWith(BUNDLED_FOLDER));
  const names = await exportNames(build, bundled);
  const bundleFile = join(jsOut, BUNDLE);
  await build({
    ...ESM_FOR_NODE,
    packages: "bundle",
    format: "cjs",
    // Strict, as the ES modules it is made of are.
    banner: { js: `"use strict";\nvar ${BUNDLE_URL} = require("node:url").pathToFileURL(__filename).href;` },
    define: { "import.meta.url": BUNDLE_URL },
    stdin: { contents: bundleEntry(bundled, names), resolveDir: root, sourcefile: "virtkit-bundle-entry.js" },
    outfile: join(scratch, BUNDLE),
    plugins: [sourcesOnly(sources, { external: false }), importMetaOfTheSource(() => bundleFile)],
  });
  for (const source of bundled) {
    const moduleFile = join(jsOut, source.replace(/\.ts$/, ".js"));
    const file = join(scratch, source.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, reExportingModule(source, names.get(source), bundleFile, moduleFile));
  }
  await build({
    ...ESM_FOR_NODE,
    entryPoints: sources
      .filter((source) => !source.startsWith(BUNDLED_FOLDER))
      .map((source) => join(root, source)),
    outbase: root,
    outdir: scratch,
    plugins: [
      sourcesOnly(sources, { external: true }),
      importMetaOfTheSource((path) => join(jsOut, relative(root, path)).replace(/\.ts$/, ".js")),
    ],
  });
  writeFileSync(join(scratch, JS_MANIFEST), `${JSON.stringify({ sources }, null, 1)}\n`);
  rmSync(jsOut, { recursive: true, force: true });
  try {
    renameSync(scratch, jsOut);
  } catch (error) {
    // A concurrent build (two test runs) moved its identical result into place first.
    rmSync(scratch, { recursive: true, force: true });
    if (!existsSync(join(jsOut, JS_MANIFEST))) throw error;
  }
  console.log(
    `build: wrote build/js (${bundled.length} modules in ${BUNDLE}, ${sources.length - bundled.length} apart)`,
  );
}

await buildCore();
await buildJavaScript();
