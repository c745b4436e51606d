// A kernel config fragment (the KCONFIG_ALLCONFIG input) and the check that every option it asks for
// survived Kconfig: an option whose dependencies are unmet is dropped silently by make, which would
// otherwise surface only as a guest that cannot find its disk or console.

export interface ConfigSetting {
  option: string;
  /** `y`, `m`, a number or quoted string, or undefined for `# CONFIG_X is not set`. */
  value: string | undefined;
  line: number;
}

export class KernelConfigError extends Error {}

export function parseConfigFragment(text: string, source: string): ConfigSetting[] {
  const settings: ConfigSetting[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset) return void settings.push({ option: unset[1]!, value: undefined, line: index + 1 });
    if (line === "" || line.startsWith("#")) return;
    const set = /^(CONFIG_\w+)=(.+)$/.exec(line);
    if (!set) {
      throw new KernelConfigError(
        `${source}:${index + 1}: "${line}" is not a config line; write CONFIG_NAME=value or "# CONFIG_NAME is not set"`,
      );
    }
    settings.push({ option: set[1]!, value: set[2]!, line: index + 1 });
  });
  return settings;
}

/** Every setting of the fragment that the final .config does not have, as a person-readable error. */
export function checkConfigApplied(
  settings: readonly ConfigSetting[],
  dotConfig: string,
  source: string,
): void {
  const actual = new Map<string, string>();
  for (const line of dotConfig.split("\n")) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) actual.set(set[1]!, set[2]!);
  }
  const missing = settings.filter((s) => actual.get(s.option) !== s.value);
  if (missing.length === 0) return;
  const lines = missing.map(
    (s) =>
      `  ${source}:${s.line}: ${s.option}=${s.value ?? "n"} ended up ${actual.has(s.option) ? `=${actual.get(s.option)}` : "not set"}`,
  );
  throw new KernelConfigError(
    `${missing.length} option(s) of the kernel config fragment did not end up in .config, usually because ` +
      `an option they depend on is off; add that option to the fragment (look up "depends on" in the ` +
      `option's Kconfig file):\n${lines.join("\n")}`,
  );
}
