// Scalar floating point against qemu-aarch64: arithmetic, fused multiply-add, min/max, compares,
// conversions and rounding, under random FPCR rounding modes, FZ, DN and AHP.
import { describe, it } from "vitest";
import { makeCases, randomFpInput, type Rng } from "./cases.ts";
import { OFF_FPCR_FPSR, OFF_V } from "./reference.ts";
import { expectAgreement } from "./expect-agreement.ts";

const reg = (rng: Rng): number => rng.below(32);
const xreg = (rng: Rng): number => rng.below(16);
const ftype = (rng: Rng): number => rng.below(2); // 0 single, 1 double

function fpCase(make: (rng: Rng, t: number) => number) {
  return (rng: Rng) => {
    const t = ftype(rng);
    return { insns: [make(rng, t)], input: randomFpInput(rng, t === 1 ? 8 : 4) };
  };
}

const CASES_PER_CLASS = 1500;

describe("scalar floating point matches qemu-aarch64", () => {
  it("FMUL/FDIV/FADD/FSUB/FMAX/FMIN/FMAXNM/FMINNM/FNMUL", async () => {
    const cases = makeCases(
      CASES_PER_CLASS,
      1,
      fpCase(
        (rng, t) =>
          0x1e200800 | (t << 22) | (reg(rng) << 16) | (rng.below(9) << 12) | (reg(rng) << 5) | reg(rng),
      ),
    );
    await expectAgreement(cases);
  });

  it("FMADD/FMSUB/FNMADD/FNMSUB round once", async () => {
    const cases = makeCases(
      CASES_PER_CLASS,
      2,
      fpCase(
        (rng, t) =>
          0x1f000000 |
          (t << 22) |
          (rng.below(2) << 21) |
          (reg(rng) << 16) |
          (rng.below(2) << 15) |
          (reg(rng) << 10) |
          (reg(rng) << 5) |
          reg(rng),
      ),
    );
    await expectAgreement(cases);
  });

  it("FMADD/FMSUB with an addend that nearly cancels the product", async () => {
    // a ≈ -(n·m): only an exact product keeps the low bits the result consists of.
    const view = new DataView(new ArrayBuffer(8));
    const cases = makeCases(CASES_PER_CLASS, 7, (rng) => {
      const double = rng.below(2);
      const input = randomFpInput(rng, double ? 8 : 4);
      const n = (1 + rng.u32() / 2 ** 32) * 2 ** (rng.below(40) - 20) * (rng.chance(0.5) ? -1 : 1);
      const m = (1 + rng.u32() / 2 ** 32) * 2 ** (rng.below(40) - 20);
      const nudge = BigInt(rng.below(7)) - 3n;
      if (double) {
        view.setFloat64(0, n);
        const nBits = view.getBigUint64(0);
        view.setFloat64(0, m);
        const mBits = view.getBigUint64(0);
        view.setFloat64(0, -(n * m));
        input.writeBigUInt64LE(nBits, OFF_V + 16);
        input.writeBigUInt64LE(mBits, OFF_V + 32);
        input.writeBigUInt64LE(view.getBigUint64(0) + nudge, OFF_V + 48);
      } else {
        const fn = Math.fround(n);
        const fm = Math.fround(m);
        view.setFloat32(0, fn);
        input.writeUInt32LE(view.getUint32(0), OFF_V + 16);
        view.setFloat32(0, fm);
        input.writeUInt32LE(view.getUint32(0), OFF_V + 32);
        view.setFloat32(0, Math.fround(-(fn * fm)));
        input.writeUInt32LE(view.getUint32(0) + Number(nudge), OFF_V + 48);
      }
      // FMADD or FMSUB d0, d1, d2, d3 (FMSUB negates the product: swap the addend's sign too).
      const o0 = rng.below(2);
      if (o0) input[OFF_V + 48 + (double ? 7 : 3)]! ^= 0x80;
      return {
        insns: [0x1f000000 | (double << 22) | (2 << 16) | (o0 << 15) | (3 << 10) | (1 << 5)],
        input,
      };
    });
    await expectAgreement(cases);
  });

  it("FADD/FSUB/FMUL/FNMUL/FDIV/FSQRT, scalar and vector, in round-to-nearest without flush-to-zero", async () => {
    // The FPCR under which wasm's own arithmetic is used when it is provably exact.
    const cases = makeCases(CASES_PER_CLASS, 8, (rng) => {
      const t = ftype(rng);
      const input = randomFpInput(rng, t === 1 ? 8 : 4);
      input.writeBigUInt64LE(rng.chance(0.8) ? 0n : 1n << 25n, OFF_FPCR_FPSR);
      if (rng.chance(0.5)) {
        // Significands of 20–34 bits: products land on both sides of 53 (and 24) significant bits.
        for (let n = 0; n < 32; n++) {
          for (let lane = 0; lane < 2; lane++) {
            const k = BigInt(20 + rng.below(15));
            const odd = (1n << (k - 1n)) | (rng.u64() & ((1n << (k - 1n)) - 1n)) | 1n;
            const exponent = BigInt(1023 - 30 + rng.below(60));
            const fraction = (odd << (53n - k)) & ((1n << 52n) - 1n);
            input.writeBigUInt64LE((exponent << 52n) | fraction, OFF_V + 16 * n + 8 * lane);
          }
        }
      }
      const scalar =
        0x1e200800 |
        (t << 22) |
        (reg(rng) << 16) |
        (rng.pick([0, 1, 2, 3, 8]) << 12) |
        (reg(rng) << 5) |
        reg(rng);
      // FADD/FSUB (U = 0, a = 0/1, opcode 11010), FMUL (U = 1, 11011), FDIV (U = 1, 11111), 2S/4S/2D.
      const op = rng.pick([0x0e20d400, 0x0ea0d400, 0x2e20dc00, 0x2e20fc00]);
      const q = t === 1 ? 1 : rng.below(2);
      const vector = op | (q << 30) | (t << 22) | (reg(rng) << 16) | (reg(rng) << 5) | reg(rng);
      // FSQRT, scalar and vector, sometimes of exact squares.
      if (rng.chance(0.25)) {
        if (rng.chance(0.5)) {
          const view = new DataView(new ArrayBuffer(8));
          for (let n = 0; n < 32; n++) {
            for (let lane = 0; lane < 4; lane++) {
              const root = 1 + rng.below(4095);
              view.setFloat32(0, root * root * 4 ** (rng.below(20) - 10));
              input.writeUInt32LE(view.getUint32(0), OFF_V + 16 * n + 4 * lane);
            }
            if (t === 1) {
              for (let lane = 0; lane < 2; lane++) {
                const root = 1 + rng.below(2 ** 26);
                view.setFloat64(0, root * root * 4 ** (rng.below(20) - 10));
                input.writeBigUInt64LE(view.getBigUint64(0), OFF_V + 16 * n + 8 * lane);
              }
            }
          }
        }
        const sqrtScalar = 0x1e21c000 | (t << 22) | (reg(rng) << 5) | reg(rng);
        const sqrtVector = 0x2ea1f800 | (q << 30) | (t << 22) | (reg(rng) << 5) | reg(rng);
        return { insns: [rng.chance(0.5) ? sqrtScalar : sqrtVector], input };
      }
      return { insns: [rng.chance(0.5) ? scalar : vector], input };
    });
    await expectAgreement(cases);
  });

  it("FMOV/FABS/FNEG/FSQRT/FCVT/FRINT*", async () => {
    const cases = makeCases(
      CASES_PER_CLASS,
      3,
      fpCase((rng, t) => {
        const op = rng.pick([0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 14, 15]);
        const type = op >= 4 && op <= 7 ? rng.pick([0, 1, 3]) : t;
        return 0x1e204000 | (type << 22) | (op << 15) | (reg(rng) << 5) | reg(rng);
      }),
    );
    await expectAgreement(cases);
  });

  it("FCMP/FCMPE/FCCMP/FCCMPE/FCSEL/FMOV immediate", async () => {
    const cases = makeCases(
      CASES_PER_CLASS,
      4,
      fpCase((rng, t) => {
        switch (rng.below(4)) {
          case 0: {
            const withZero = rng.below(2);
            const rm = reg(rng); // should-be-zero in the zero forms, and ignored there
            return (
              0x1e202000 | (t << 22) | (rm << 16) | (reg(rng) << 5) | (rng.below(2) << 4) | (withZero << 3)
            );
          }
          case 1:
            return (
              0x1e200400 |
              (t << 22) |
              (reg(rng) << 16) |
              (rng.below(16) << 12) |
              (reg(rng) << 5) |
              (rng.below(2) << 4) |
              rng.below(16)
            );
          case 2:
            return (
              0x1e200c00 | (t << 22) | (reg(rng) << 16) | (rng.below(16) << 12) | (reg(rng) << 5) | reg(rng)
            );
          default:
            return 0x1e201000 | (t << 22) | (rng.below(256) << 13) | reg(rng);
        }
      }),
    );
    await expectAgreement(cases);
  });

  it("FCVT[NPMZA][SU], SCVTF/UCVTF and FMOV between FP and general registers", async () => {
    const cases = makeCases(
      CASES_PER_CLASS,
      5,
      fpCase((rng, t) => {
        const sf = rng.below(2);
        const kind = rng.below(4);
        if (kind === 0) {
          // SCVTF/UCVTF from X0–X15.
          return (sf << 31) | 0x1e220000 | (t << 22) | (rng.below(2) << 16) | (xreg(rng) << 5) | reg(rng);
        }
        if (kind === 1) {
          const forms = [
            [0, 0, 0],
            [1, 1, 0],
            [1, 2, 1],
          ] as const;
          const [fsf, type, rmode] = rng.pick(forms);
          const toGeneral = rng.below(2) === 0;
          const rd = toGeneral ? xreg(rng) : reg(rng);
          const rn = toGeneral ? reg(rng) : xreg(rng);
          return (
            (fsf << 31) |
            0x1e260000 |
            (type << 22) |
            (rmode << 19) |
            ((toGeneral ? 0 : 1) << 16) |
            (rn << 5) |
            rd
          );
        }
        const rmodeOpcode = rng.pick([0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x04, 0x05]);
        return (sf << 31) | 0x1e200000 | (t << 22) | (rmodeOpcode << 16) | (reg(rng) << 5) | xreg(rng);
      }),
    );
    await expectAgreement(cases);
  });

  it("fixed-point SCVTF/UCVTF/FCVTZS/FCVTZU", async () => {
    const cases = makeCases(
      CASES_PER_CLASS,
      6,
      fpCase((rng, t) => {
        const sf = rng.below(2);
        const scale = sf ? rng.below(64) : 32 + rng.below(32);
        const toFp = rng.below(2) === 0;
        const rmodeOpcode = toFp ? 2 + rng.below(2) : 0x18 + rng.below(2);
        const rn = toFp ? xreg(rng) : reg(rng);
        const rd = toFp ? reg(rng) : xreg(rng);
        return (sf << 31) | 0x1e000000 | (t << 22) | (rmodeOpcode << 16) | (scale << 10) | (rn << 5) | rd;
      }),
    );
    await expectAgreement(cases);
  });
});
