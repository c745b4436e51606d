// Optional extensions of ARMv8.0 (and later ones a Cortex-A53 lacks). Each class runs only when the
// core's ID registers claim it (see OPTIONAL_CLASSES in index.ts); otherwise the fixed budget checks
// that its instructions are UNDEFINED, as on hardware without the extension.
import type { GenContext, InstructionClass } from "./context.ts";
import { scratchBase } from "./memory.ts";

const v = (g: GenContext, t: string) => `v${g.v()}.${t}`;

export const crypto: InstructionClass = {
  name: "crypto",
  description:
    "AESE/AESD/AESMC/AESIMC, SHA1*/SHA256*, PMULL/PMULL2 of 64-bit lanes (ID_AA64ISAR0_EL1.AES/SHA1/SHA2)",
  generate(g) {
    switch (g.rng.below(4)) {
      case 0:
        return [
          `${g.rng.pick(["aese", "aesd"])} ${v(g, "16b")}, ${v(g, "16b")}`,
          `${g.rng.pick(["aesmc", "aesimc"])} ${v(g, "16b")}, ${v(g, "16b")}`,
        ];
      case 1:
        return g.rng.chance(0.5)
          ? [`${g.rng.pick(["sha1c", "sha1p", "sha1m"])} q${g.v()}, s${g.v()}, ${v(g, "4s")}`]
          : [`sha1h s${g.v()}, s${g.v()}`];
      case 2:
        return g.rng.chance(0.5)
          ? [`${g.rng.pick(["sha256h", "sha256h2"])} q${g.v()}, q${g.v()}, ${v(g, "4s")}`]
          : [`${g.rng.pick(["sha256su1", "sha1su0"])} ${v(g, "4s")}, ${v(g, "4s")}, ${v(g, "4s")}`];
      default:
        return g.rng.chance(0.5)
          ? [`pmull ${v(g, "1q")}, ${v(g, "1d")}, ${v(g, "1d")}`]
          : [`pmull2 ${v(g, "1q")}, ${v(g, "2d")}, ${v(g, "2d")}`];
    }
  },
};

export const lse: InstructionClass = {
  name: "lse",
  description: "ARMv8.1 atomics (LDADD, SWP, CAS, ...): a Cortex-A53 has none (ID_AA64ISAR0_EL1.Atomic)",
  generate(g) {
    const b = scratchBase(g, 8, 0, 8);
    const [rs, rt] = g.distinct(2, [b.base]);
    const op = g.rng.pick(["ldadd", "ldclr", "ldeor", "ldset", "swp", "cas"]);
    return [b.setup, `${op}al x${rs}, x${rt}, [x${b.base}]`];
  },
};

export const rdm: InstructionClass = {
  name: "rdm",
  description: "ARMv8.1 SQRDMLAH/SQRDMLSH: a Cortex-A53 has none (ID_AA64ISAR0_EL1.RDM)",
  generate(g) {
    const t = g.rng.pick(["4h", "8h", "2s", "4s"]);
    return [`${g.rng.pick(["sqrdmlah", "sqrdmlsh"])} ${v(g, t)}, ${v(g, t)}, ${v(g, t)}`];
  },
};

export const extensionClasses: InstructionClass[] = [crypto, lse, rdm];
