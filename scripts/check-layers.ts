// The layer rule, checked: a folder under src/ imports only from folders below it in LAYERS, and
// device models and boards (which must later run in a browser) import no Node.js modules.
// `npm run lint` runs it; tests/architecture/layers.test.ts proves it fires.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Bottom first: each layer may import itself and the layers before it. */
export const LAYERS = [
  "util",
  "sdf",
  "machine",
  "kernel",
  "microkit",
  "sddf",
  "libvmm",
  "host",
  "guest",
  "cli",
] as const;

/** Folders whose modules are device models: they reach the host only through back-end interfaces. */
const NO_NODE_APIS = ["machine/devices", "machine/boards", "machine/arch"];

export interface LayerViolation {
  file: string;
  line: number;
  message: string;
}

const IMPORT =
  /^\s*(?:import|export)\b[^'"]*?from\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

function layerOf(srcRoot: string, path: string): string | undefined {
  const rel = relative(srcRoot, path);
  if (rel.startsWith("..")) return undefined;
  return rel.split(sep)[0];
}

/** Every import in `srcRoot` that runs up the layers or out of a device model into Node. */
export function checkLayers(srcRoot: string): LayerViolation[] {
  const violations: LayerViolation[] = [];
  const rank = (layer: string): number => (LAYERS as readonly string[]).indexOf(layer);
  for (const file of sourceFiles(srcRoot)) {
    const text = readFileSync(file, "utf8");
    const from = layerOf(srcRoot, file)!;
    const rel = relative(srcRoot, file).split(sep).join("/");
    const lineAt = (index: number): number => text.slice(0, index).split("\n").length;
    if (rank(from) < 0) {
      violations.push({
        file: rel,
        line: 1,
        message: `folder src/${from} is not a layer (${LAYERS.join(", ")})`,
      });
      continue;
    }
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2]!;
      const line = lineAt(match.index);
      if (specifier.startsWith("node:") || !specifier.startsWith(".")) {
        const builtin = specifier.startsWith("node:");
        if (builtin && NO_NODE_APIS.some((dir) => rel.startsWith(`${dir}/`))) {
          violations.push({
            file: rel,
            line,
            message: `device models and boards may not use ${specifier}: reach the host through a back-end interface (src/machine/backends)`,
          });
        }
        continue;
      }
      const to = layerOf(srcRoot, resolve(dirname(file), specifier));
      if (to === undefined) {
        violations.push({ file: rel, line, message: `imports ${specifier}, outside src/` });
      } else if (rank(to) > rank(from)) {
        violations.push({
          file: rel,
          line,
          message: `src/${from} may not import from src/${to} (${specifier}): layers use only the layers below them (${LAYERS.join(" < ")})`,
        });
      }
    }
  }
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcRoot = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..", "src"));
  const violations = checkLayers(srcRoot);
  for (const v of violations) process.stderr.write(`src/${v.file}:${v.line}: ${v.message}\n`);
  if (violations.length > 0) process.exit(1);
  process.stdout.write(`layers: ${LAYERS.join(" < ")}: no import runs up\n`);
}
