// Part 4 of the Microkit tutorial: the VMM boots a Linux guest that has the board's virtio-net NIC
// passed through (its interrupt, INTID 79, arrives on channel 2 and is injected). The guest fetches
// a word and writes its letters to guest-physical 0x50000000..0x50000004, where nothing is mapped:
// each write faults to this VMM, which keeps the letter and steps the guest past the store. The
// fifth letter completes the word: the VMM stops the guest, as the tutorial's does, and hands the
// word to the Wordle server over PPC on channel 1.
import { linuxVmm } from "../lib/linux-vmm.ts";
import { WORD_LENGTH } from "./wordle.ts";

const WORD_GPA = 0x5000_0000;
const WORDLE_SERVER_CHANNEL = 1;
const NIC_CHANNEL = 2;
const GUEST_VCPU = 0;
/** The guest shares the PL011 with the serial server: a quiet kernel, user space on /dev/console. */
const BOOTARGS = "earlycon=pl011,mmio32,0x9000000 console=ttyAMA0 quiet";

export default linuxVmm(() => {
  const letters: number[] = [];
  let wordComplete = false;
  return {
    example: "wordle",
    nicChannel: NIC_CHANNEL,
    bootargs: BOOTARGS,
    setup(_pd, vmm) {
      // The tutorial's VMM keeps the low byte of the store's source register, whatever its size.
      vmm.mmio.register("the word", WORD_GPA, WORD_LENGTH, {
        read: () => 0n,
        write: (offset, _size, value) => {
          letters[offset] = Number(value & 0xffn);
          if (offset === WORD_LENGTH - 1) wordComplete = true;
        },
      });
    },
    afterFault(pd, _vcpu, resumed) {
      if (!wordComplete) return resumed;
      wordComplete = false;
      pd.vcpuStop(GUEST_VCPU);
      pd.dbgPuts("VMM: the guest sent a word; handing it to the Wordle server (press Enter to redraw)\n");
      for (let i = 0; i < WORD_LENGTH; i++) pd.mrSet(i, BigInt(letters[i] ?? 0));
      pd.ppcall(WORDLE_SERVER_CHANNEL, pd.msginfoNew(0, WORD_LENGTH));
      return false;
    },
  };
});
