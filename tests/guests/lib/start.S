// Entry and exception vectors of the bare-metal test guests. Every vector saves the interrupted
// context in a `struct frame` on SP_EL1 and calls exception_handler(frame, vector index); the handler
// may edit the frame (ELR, SPSR, registers) before the ERET restores it.
#define FRAME_SIZE 288

.section .text.boot, "ax"
.globl _start
_start:
  ldr x0, =stack_top
  mov sp, x0
  adr x0, vectors
  msr vbar_el1, x0
  mov x0, #(3 << 20)
  msr cpacr_el1, x0
  isb
  ldr x0, =__bss_start
  ldr x1, =__bss_end
1:
  cmp x0, x1
  b.hs 2f
  str xzr, [x0], #8
  b 1b
2:
  bl main
  bl guest_exit
  b .

.macro ventry index
  .balign 128
  sub sp, sp, #FRAME_SIZE
  stp x0, x1, [sp]
  mov x1, #\index
  b exception_common
.endm

.balign 2048
.globl vectors
vectors:
  .irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
  ventry \i
  .endr

exception_common:
  stp x2, x3, [sp, #16]
  stp x4, x5, [sp, #32]
  stp x6, x7, [sp, #48]
  stp x8, x9, [sp, #64]
  stp x10, x11, [sp, #80]
  stp x12, x13, [sp, #96]
  stp x14, x15, [sp, #112]
  stp x16, x17, [sp, #128]
  stp x18, x19, [sp, #144]
  stp x20, x21, [sp, #160]
  stp x22, x23, [sp, #176]
  stp x24, x25, [sp, #192]
  stp x26, x27, [sp, #208]
  stp x28, x29, [sp, #224]
  str x30, [sp, #240]
  mrs x2, elr_el1
  mrs x3, spsr_el1
  stp x2, x3, [sp, #248]
  mrs x2, esr_el1
  mrs x3, far_el1
  stp x2, x3, [sp, #264]
  mov x0, sp
  bl exception_handler
  ldp x2, x3, [sp, #248]
  msr elr_el1, x2
  msr spsr_el1, x3
  ldp x2, x3, [sp, #16]
  ldp x4, x5, [sp, #32]
  ldp x6, x7, [sp, #48]
  ldp x8, x9, [sp, #64]
  ldp x10, x11, [sp, #80]
  ldp x12, x13, [sp, #96]
  ldp x14, x15, [sp, #112]
  ldp x16, x17, [sp, #128]
  ldp x18, x19, [sp, #144]
  ldp x20, x21, [sp, #160]
  ldp x22, x23, [sp, #176]
  ldp x24, x25, [sp, #192]
  ldp x26, x27, [sp, #208]
  ldp x28, x29, [sp, #224]
  ldr x30, [sp, #240]
  ldp x0, x1, [sp]
  add sp, sp, #FRAME_SIZE
  eret
