// Builds what `virtkit` runs: the wasm CPU core (build/cpu.wasm) from the AssemblyScript sources in
// src/machine/cpu, and the JavaScript of virtkit's TypeScript and of the examples' PD modules
// (build/js/src/, build/js/examples/, one module per source file), so that starting `virtkit run`
// transpiles nothing. Each part is skipped when it is newer than its sources.
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
 * An import of another source stays an import of that module (`./x.ts` becomes `./x.js`) instead of
 * being bundled, so each module exists once: a PD module and the CLI share every instance.
 */
function oneModulePerSource(sources) {
  const known = new Set(sources.map((source) => join(root, source)));
  return {
    name: "one-module-per-source",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!known.has(join(args.resolveDir, args.path))) {
          return {
            errors: [{ text: `${args.path} is not one of the TypeScript sources the build compiles` }],
          };
        }
        return { path: args.path.replace(/\.ts$/, ".js"), external: true };
      });
    },
  };
}

/**
 * A built module sees `import.meta` as its source does: `new URL("./skeleton", import.meta.url)`,
 * `import.meta.dirname` and `filename` name the source's place, so the files beside it (the guest
 * skeleton, the kernel config fragment, build/cpu.wasm from src/machine, an example's packages) are
 * found where they are.
 */
function importMetaOfTheSource() {
  return {
    name: "import-meta-of-the-source",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const text = readFileSync(args.path, "utf8");
        if (!/\bimport\.meta\.(url|dirname|filename)\b/.test(text)) return { contents: text, loader: "ts" };
        const built = join(jsOut, relative(root, args.path)).replace(/\.ts$/, ".js");
        const fromBuilt = JSON.stringify(relative(dirname(built), args.path));
        const prelude = [
          'import { dirname as __virtkitDirname } from "node:path";',
          'import { fileURLToPath as __virtkitPath } from "node:url";',
          `const __virtkitSourceUrl = new URL(${fromBuilt}, import.meta.url).href;`,
        ].join(" ");
        const contents = text
          .replace(/\bimport\.meta\.url\b/g, "__virtkitSourceUrl")
          .replace(/\bimport\.meta\.filename\b/g, "__virtkitPath(__virtkitSourceUrl)")
          .replace(/\bimport\.meta\.dirname\b/g, "__virtkitDirname(__virtkitPath(__virtkitSourceUrl))");
        // On the first line, so the source's line numbers stay those of the build's module.
        return { contents: `${prelude} ${contents}`, loader: "ts" };
      });
    },
  };
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
  await build({
    entryPoints: sources.map((source) => join(root, source)),
    outbase: root,
    outdir: scratch,
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    plugins: [oneModulePerSource(sources), importMetaOfTheSource()],
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
  console.log(`build: wrote build/js (${sources.length} modules)`);
}

await buildCore();
await buildJavaScript();
