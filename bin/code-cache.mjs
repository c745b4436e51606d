// Loads the bundle of src/ (build/js/virtkit.cjs) with the code V8 compiled for it in an earlier run:
// Node 20 keeps no compiled code between runs, and parsing and compiling the 1.2 MB bundle at every
// start cost more than reading V8's code cache for it, which is kept beside the bundle and made again
// when it is missing, stale or damaged.
import { createHash } from "node:crypto";
import { accessSync, constants, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { setTimeout } from "node:timers";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

/** The cache file's first line: this tag, the bundle's size and time, and a hash of the V8 data after it. */
const TAG = "virtkit-code-cache";

/**
 * How long after loading the bundle a new code cache is made: once start-up is over, so that it holds
 * the functions start-up compiled too (V8 compiles a function's body at its first call); a process that
 * exits sooner makes it as it exits.
 */
const CACHE_AFTER_MS = 1000;

/** Each bundle loaded, by file: one instance, whoever asks. */
const bundles = new Map();

function digest(data) {
  return createHash("sha1").update(data).digest("hex");
}

/**
 * The V8 data in `cacheFile` if it was made for this very bundle file and is whole, else why not. V8
 * checks only the source's length, its own version and its flags, not that the data is intact.
 */
function readCache(cacheFile, stamp) {
  let file;
  try {
    file = readFileSync(cacheFile);
  } catch {
    return { state: "missing" };
  }
  const end = file.indexOf(10);
  const data = file.subarray(end + 1);
  const header = end < 0 ? "" : file.subarray(0, end).toString("latin1");
  return header === `${TAG} ${stamp} ${digest(data)}` ? { data } : { state: "stale or damaged" };
}

/** Whether the cache can be written: in a build folder that is not ours, every start compiles. */
function writable(folder) {
  try {
    accessSync(folder, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Written aside and moved into place, so a process starting meanwhile never reads half a cache. */
function writeCache(cacheFile, stamp, data) {
  const scratch = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(scratch, Buffer.concat([Buffer.from(`${TAG} ${stamp} ${digest(data)}\n`), data]));
    renameSync(scratch, cacheFile);
  } catch {
    // A full disk only costs later starts the compile again.
    rmSync(scratch, { force: true });
  }
}

/**
 * The default export of the CommonJS bundle at `bundleUrl` (the bundle of src/ exports every binding
 * that way: see scripts/build.mjs), compiled as Node compiles a CommonJS module (the same wrapper, on
 * the bundle's first line, so stack traces keep its line numbers) but from and into the code cache
 * `<bundle>.<use>.cache`; `codeCache` says whether the cache was used or why it is made anew. Each
 * `use` (`virtkit run`, the other commands) has a cache of its own, holding the functions it compiled:
 * one made by `virtkit --help` would leave `run` to compile its own at every start.
 */
export function loadBundle(bundleUrl, use = "modules") {
  const file = fileURLToPath(bundleUrl);
  const loaded = bundles.get(file);
  if (loaded) return loaded;
  const cacheFile = `${file}.${use}.cache`;
  const { size, mtimeMs } = statSync(file);
  const stamp = `${size} ${mtimeMs}`;
  const cache = readCache(cacheFile, stamp);
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, "utf8")}\n})`,
    {
      filename: file,
      cachedData: cache.data,
      // The bundle imports PD modules with import(), resolved as the main program's imports are.
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    },
  );
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  const codeCache = script.cachedDataRejected ? "rejected by V8" : (cache.state ?? "used");
  if (codeCache !== "used" && writable(dirname(file))) {
    let made = false;
    const make = () => {
      if (made) return;
      made = true;
      writeCache(cacheFile, stamp, script.createCachedData());
    };
    setTimeout(make, CACHE_AFTER_MS).unref();
    process.once("exit", make);
  }
  const bundle = { exports: module.exports.default, codeCache };
  bundles.set(file, bundle);
  return bundle;
}
