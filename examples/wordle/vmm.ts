// Part 4 of the Microkit tutorial: the VMM boots a Linux guest that has the board's virtio-net NIC
// passed through (its interrupt, INTID 79, arrives on channel 2 and is injected). The guest fetches
// a word and writes its letters to guest-physical 0x50000000..0x50000004, where nothing is mapped:
// each write faults to this VMM, which keeps the letter and steps the guest past the store. The
// fifth letter completes the word: the VMM stops the guest, as the tutorial's does, and hands the
// word to the Wordle server over PPC on channel 1.
import { readFileSync } from "node:fs";
import { definePd, type Pd } from "../../src/microkit/index.ts";
import { microkitFault, startMicrokitLinuxVm, type Vmm } from "../../src/libvmm/index.ts";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { streamProgress } from "../../src/guest/progress.ts";
import { virtioMmioSlot } from "../../src/machine/boards/board.ts";
import { WORD_LENGTH } from "./wordle.ts";

const WORD_GPA = 0x5000_0000;
const WORDLE_SERVER_CHANNEL = 1;
const NIC_CHANNEL = 2;
const GUEST_VCPU = 0;
/** The tutorial's guest prints its kernel log through earlycon only; user space writes /dev/console. */
const BOOTARGS = "earlycon=pl011,mmio32,0x9000000 console=ttyAMA0 quiet";

export default definePd(async ({ board, guestBoot }) => {
  if (!board.virtioMmio)
    throw new Error(`part 4 needs a board with virtio-mmio slots; ${board.name} has none`);
  // The board's NIC (on QEMU virt the last transport: 0xa003e00, INTID 79), as the system maps it.
  const nic = virtioMmioSlot(board.virtioMmio, board.virtioMmio.nicSlot);
  const images = await ensureGuestImages({
    board,
    example: "wordle",
    kernel: guestBoot.kernel,
    initrd: guestBoot.initrd,
    dtb: guestBoot.dtb,
    bootargs: guestBoot.append ?? BOOTARGS,
    virtio: [nic],
    onProgress: streamProgress(process.stderr),
  });
  let vmm: Vmm;
  const letters: number[] = [];
  let wordComplete = false;
  return {
    init(pd: Pd) {
      vmm = startMicrokitLinuxVm(pd, {
        vmName: "linux",
        layout: images.layout,
        gic: { version: 2, distributor: board.guest.gic.distributor.base },
        images: {
          kernel: readFileSync(images.kernel),
          dtb: readFileSync(images.dtb),
          initrd: images.initrd === undefined ? undefined : readFileSync(images.initrd),
        },
        passthroughIrqs: [{ intid: nic.irq, channel: NIC_CHANNEL }],
      });
      // The tutorial's VMM keeps the low byte of the store's source register, whatever its size.
      vmm.mmio.register("the word", WORD_GPA, WORD_LENGTH, {
        read: () => 0n,
        write: (offset, _size, value) => {
          letters[offset] = Number(value & 0xffn);
          if (offset === WORD_LENGTH - 1) wordComplete = true;
        },
      });
    },
    notified(_pd: Pd, channel: number) {
      vmm.handleNotification(channel);
    },
    fault(pd: Pd, child: number, msginfo) {
      const fault = microkitFault(pd, msginfo);
      const resume = fault !== undefined && vmm.handleFault(child, fault);
      if (!wordComplete) return resume;
      wordComplete = false;
      pd.vcpuStop(GUEST_VCPU);
      pd.dbgPuts("VMM: the guest sent a word; handing it to the Wordle server (press Enter to redraw)\n");
      for (let i = 0; i < WORD_LENGTH; i++) pd.mrSet(i, BigInt(letters[i] ?? 0));
      pd.ppcall(WORDLE_SERVER_CHANNEL, pd.msginfoNew(0, WORD_LENGTH));
      return false;
    },
  };
});
