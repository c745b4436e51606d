/*
 * virtkit's libsel4 subset: the types, message registers, syscalls and invocations a Microkit
 * program uses, written for virtkit from seL4's published AArch64 ABI. The numbers (syscalls,
 * invocation labels, errors, fault and VCPU register indices) are in sel4/abi.h, which
 * `virtkit sdk` generates from virtkit's kernel model.
 */
#pragma once

#include <stdint.h>
#include <stddef.h>

typedef uint8_t seL4_Uint8;
typedef uint16_t seL4_Uint16;
typedef uint32_t seL4_Uint32;
typedef uint64_t seL4_Uint64;
typedef int8_t seL4_Int8;
typedef uint64_t seL4_Word;
typedef seL4_Word seL4_CPtr;
typedef seL4_Int8 seL4_Bool;
typedef seL4_CPtr seL4_TCB;
typedef seL4_CPtr seL4_IRQHandler;
typedef seL4_CPtr seL4_ARM_VCPU;
typedef seL4_CPtr seL4_ARM_SMC;
typedef seL4_Word seL4_VCPUReg;

#define seL4_True 1
#define seL4_False 0
#define seL4_Null ((void *)0)

#include <sel4/abi.h>

typedef struct seL4_MessageInfo {
    seL4_Word words[1];
} seL4_MessageInfo_t;

typedef struct seL4_IPCBuffer_ {
    seL4_MessageInfo_t tag;
    seL4_Word msg[seL4_MsgMaxLength];
    seL4_Word userData;
    seL4_Word caps_or_badges[seL4_MsgMaxExtraCaps];
    seL4_CPtr receiveCNode;
    seL4_CPtr receiveIndex;
    seL4_Word receiveDepth;
} seL4_IPCBuffer __attribute__((__aligned__(sizeof(struct seL4_IPCBuffer_))));

typedef struct seL4_UserContext_ {
    seL4_Word pc, sp, spsr;
    seL4_Word x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17, x18;
    seL4_Word x19, x20, x21, x22, x23, x24, x25, x26, x27, x28, x29, x30;
    seL4_Word tpidr_el0, tpidrro_el0;
} seL4_UserContext;

typedef struct seL4_ARM_SMCContext_ {
    seL4_Word x0, x1, x2, x3, x4, x5, x6, x7;
} seL4_ARM_SMCContext;

typedef struct seL4_ARM_VCPU_ReadRegs {
    int error;
    seL4_Word value;
} seL4_ARM_VCPU_ReadRegs_t;

extern seL4_IPCBuffer *__sel4_ipc_buffer;

static inline seL4_IPCBuffer *seL4_GetIPCBuffer(void)
{
    return __sel4_ipc_buffer;
}

static inline seL4_Word seL4_GetMR(int i)
{
    return __sel4_ipc_buffer->msg[i];
}

static inline void seL4_SetMR(int i, seL4_Word value)
{
    __sel4_ipc_buffer->msg[i] = value;
}

static inline seL4_MessageInfo_t seL4_MessageInfo_new(seL4_Word label, seL4_Word capsUnwrapped, seL4_Word extraCaps,
                                                      seL4_Word length)
{
    seL4_MessageInfo_t info;
    info.words[0] = ((label & seL4_MessageInfo_LabelMask) << seL4_MessageInfo_LabelShift)
                    | ((capsUnwrapped & 7) << seL4_MessageInfo_CapsUnwrappedShift)
                    | ((extraCaps & 3) << seL4_MessageInfo_ExtraCapsShift) | (length & seL4_MessageInfo_LengthMask);
    return info;
}

static inline seL4_Word seL4_MessageInfo_get_label(seL4_MessageInfo_t info)
{
    return (info.words[0] >> seL4_MessageInfo_LabelShift) & seL4_MessageInfo_LabelMask;
}

static inline seL4_Word seL4_MessageInfo_get_length(seL4_MessageInfo_t info)
{
    return info.words[0] & seL4_MessageInfo_LengthMask;
}

static inline seL4_MessageInfo_t seL4_MessageInfo_set_length(seL4_MessageInfo_t info, seL4_Word length)
{
    info.words[0] = (info.words[0] & ~(seL4_Word)seL4_MessageInfo_LengthMask) | (length & seL4_MessageInfo_LengthMask);
    return info;
}

/*
 * One syscall: x7 the number, x0 the capability (the badge on return), x1 the message info,
 * x2-x5 the first four message registers, x6 the reply object, x8 the send capability of
 * NBSendRecv. The kernel writes back x0-x5.
 */
static inline void seL4_virtkit_svc(seL4_Word sys, seL4_Word *x0, seL4_Word *x1, seL4_Word mrs[4], seL4_Word x6,
                                    seL4_Word x8)
{
    register seL4_Word r0 __asm__("x0") = *x0;
    register seL4_Word r1 __asm__("x1") = *x1;
    register seL4_Word r2 __asm__("x2") = mrs[0];
    register seL4_Word r3 __asm__("x3") = mrs[1];
    register seL4_Word r4 __asm__("x4") = mrs[2];
    register seL4_Word r5 __asm__("x5") = mrs[3];
    register seL4_Word r6 __asm__("x6") = x6;
    register seL4_Word r7 __asm__("x7") = sys;
    register seL4_Word r8 __asm__("x8") = x8;
    __asm__ volatile("svc #0"
                     : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5)
                     : "r"(r6), "r"(r7), "r"(r8)
                     : "memory");
    *x0 = r0;
    *x1 = r1;
    mrs[0] = r2;
    mrs[1] = r3;
    mrs[2] = r4;
    mrs[3] = r5;
}

/* The message registers a send carries in x2-x5, from the IPC buffer. */
static inline void seL4_virtkit_load_mrs(seL4_Word mrs[4])
{
    for (int i = 0; i < seL4_FastMessageRegisters; i++) mrs[i] = seL4_GetMR(i);
}

/* The message registers a receive got in x2-x5, into the IPC buffer. */
static inline void seL4_virtkit_store_mrs(const seL4_Word mrs[4])
{
    for (int i = 0; i < seL4_FastMessageRegisters; i++) seL4_SetMR(i, mrs[i]);
}

static inline void seL4_Send(seL4_CPtr dest, seL4_MessageInfo_t info)
{
    seL4_Word x0 = dest, x1 = info.words[0], mrs[4];
    seL4_virtkit_load_mrs(mrs);
    seL4_virtkit_svc((seL4_Word)seL4_SysSend, &x0, &x1, mrs, 0, 0);
}

static inline void seL4_NBSend(seL4_CPtr dest, seL4_MessageInfo_t info)
{
    seL4_Word x0 = dest, x1 = info.words[0], mrs[4];
    seL4_virtkit_load_mrs(mrs);
    seL4_virtkit_svc((seL4_Word)seL4_SysNBSend, &x0, &x1, mrs, 0, 0);
}

static inline void seL4_Signal(seL4_CPtr dest)
{
    seL4_Word x0 = dest, x1 = seL4_MessageInfo_new(0, 0, 0, 0).words[0], mrs[4] = { 0 };
    seL4_virtkit_svc((seL4_Word)seL4_SysSend, &x0, &x1, mrs, 0, 0);
}

static inline seL4_MessageInfo_t seL4_Call(seL4_CPtr dest, seL4_MessageInfo_t info)
{
    seL4_Word x0 = dest, x1 = info.words[0], mrs[4];
    seL4_virtkit_load_mrs(mrs);
    seL4_virtkit_svc((seL4_Word)seL4_SysCall, &x0, &x1, mrs, 0, 0);
    seL4_virtkit_store_mrs(mrs);
    return (seL4_MessageInfo_t){ { x1 } };
}

static inline seL4_MessageInfo_t seL4_Recv(seL4_CPtr src, seL4_Word *sender, seL4_CPtr reply)
{
    seL4_Word x0 = src, x1 = 0, mrs[4] = { 0 };
    seL4_virtkit_svc((seL4_Word)seL4_SysRecv, &x0, &x1, mrs, reply, 0);
    seL4_virtkit_store_mrs(mrs);
    if (sender) *sender = x0;
    return (seL4_MessageInfo_t){ { x1 } };
}

static inline seL4_MessageInfo_t seL4_Wait(seL4_CPtr src, seL4_Word *sender)
{
    seL4_Word x0 = src, x1 = 0, mrs[4] = { 0 };
    seL4_virtkit_svc((seL4_Word)seL4_SysWait, &x0, &x1, mrs, 0, 0);
    seL4_virtkit_store_mrs(mrs);
    if (sender) *sender = x0;
    return (seL4_MessageInfo_t){ { x1 } };
}

static inline seL4_MessageInfo_t seL4_ReplyRecv(seL4_CPtr src, seL4_MessageInfo_t info, seL4_Word *sender,
                                                seL4_CPtr reply)
{
    seL4_Word x0 = src, x1 = info.words[0], mrs[4];
    seL4_virtkit_load_mrs(mrs);
    seL4_virtkit_svc((seL4_Word)seL4_SysReplyRecv, &x0, &x1, mrs, reply, 0);
    seL4_virtkit_store_mrs(mrs);
    if (sender) *sender = x0;
    return (seL4_MessageInfo_t){ { x1 } };
}

static inline seL4_MessageInfo_t seL4_NBSendRecv(seL4_CPtr dest, seL4_MessageInfo_t info, seL4_CPtr src,
                                                 seL4_Word *sender, seL4_CPtr reply)
{
    seL4_Word x0 = src, x1 = info.words[0], mrs[4];
    seL4_virtkit_load_mrs(mrs);
    seL4_virtkit_svc((seL4_Word)seL4_SysNBSendRecv, &x0, &x1, mrs, reply, dest);
    seL4_virtkit_store_mrs(mrs);
    if (sender) *sender = x0;
    return (seL4_MessageInfo_t){ { x1 } };
}

static inline void seL4_Yield(void)
{
    seL4_Word x0 = 0, x1 = 0, mrs[4] = { 0 };
    seL4_virtkit_svc((seL4_Word)seL4_SysYield, &x0, &x1, mrs, 0, 0);
}

static inline void seL4_DebugPutChar(char c)
{
    seL4_Word x0 = (seL4_Word)(unsigned char)c, x1 = 0, mrs[4] = { 0 };
    seL4_virtkit_svc((seL4_Word)seL4_SysDebugPutChar, &x0, &x1, mrs, 0, 0);
}

/* An invocation: the label names the method; the error comes back in the reply's label. */
static inline seL4_Error seL4_virtkit_invoke(seL4_CPtr cap, seL4_Word label, seL4_Word length)
{
    seL4_MessageInfo_t reply = seL4_Call(cap, seL4_MessageInfo_new(label, 0, 0, length));
    return (seL4_Error)seL4_MessageInfo_get_label(reply);
}

static inline seL4_Error seL4_IRQHandler_Ack(seL4_IRQHandler handler)
{
    return seL4_virtkit_invoke(handler, IRQAckIRQ, 0);
}

static inline seL4_Error seL4_TCB_Suspend(seL4_TCB tcb)
{
    return seL4_virtkit_invoke(tcb, TCBSuspend, 0);
}

static inline seL4_Error seL4_TCB_Resume(seL4_TCB tcb)
{
    return seL4_virtkit_invoke(tcb, TCBResume, 0);
}

static inline seL4_Error seL4_TCB_WriteRegisters(seL4_TCB tcb, seL4_Bool resume, seL4_Uint8 arch_flags,
                                                 seL4_Word count, seL4_UserContext *regs)
{
    const seL4_Word *words = (const seL4_Word *)regs;
    seL4_SetMR(0, (seL4_Word)(resume & 1) | ((seL4_Word)arch_flags << 8));
    seL4_SetMR(1, count);
    for (seL4_Word i = 0; i < count; i++) seL4_SetMR(2 + i, words[i]);
    return seL4_virtkit_invoke(tcb, TCBWriteRegisters, 2 + count);
}

static inline seL4_Error seL4_TCB_ReadRegisters(seL4_TCB tcb, seL4_Bool suspend, seL4_Uint8 arch_flags,
                                                seL4_Word count, seL4_UserContext *regs)
{
    seL4_Word *words = (seL4_Word *)regs;
    seL4_SetMR(0, (seL4_Word)(suspend & 1) | ((seL4_Word)arch_flags << 8));
    seL4_SetMR(1, count);
    seL4_Error error = seL4_virtkit_invoke(tcb, TCBReadRegisters, 2);
    for (seL4_Word i = 0; error == seL4_NoError && i < count; i++) words[i] = seL4_GetMR(i);
    return error;
}

static inline seL4_ARM_VCPU_ReadRegs_t seL4_ARM_VCPU_ReadRegs(seL4_ARM_VCPU vcpu, seL4_Word field)
{
    seL4_ARM_VCPU_ReadRegs_t result;
    seL4_SetMR(0, field);
    result.error = seL4_virtkit_invoke(vcpu, ARMVCPUReadReg, 1);
    result.value = seL4_GetMR(0);
    return result;
}

static inline seL4_Error seL4_ARM_VCPU_WriteRegs(seL4_ARM_VCPU vcpu, seL4_Word field, seL4_Word value)
{
    seL4_SetMR(0, field);
    seL4_SetMR(1, value);
    return seL4_virtkit_invoke(vcpu, ARMVCPUWriteReg, 2);
}

static inline seL4_Error seL4_ARM_VCPU_InjectIRQ(seL4_ARM_VCPU vcpu, seL4_Uint16 virq, seL4_Uint8 priority,
                                                 seL4_Uint8 group, seL4_Uint8 index)
{
    seL4_SetMR(0, (seL4_Word)virq | ((seL4_Word)priority << 16) | ((seL4_Word)group << 24) | ((seL4_Word)index << 32));
    return seL4_virtkit_invoke(vcpu, ARMVCPUInjectIRQ, 1);
}

static inline seL4_Error seL4_ARM_VCPU_AckVPPI(seL4_ARM_VCPU vcpu, seL4_Word irq)
{
    seL4_SetMR(0, irq);
    return seL4_virtkit_invoke(vcpu, ARMVCPUAckVPPI, 1);
}

static inline seL4_Error seL4_ARM_SMC_Call(seL4_ARM_SMC cap, seL4_ARM_SMCContext *args, seL4_ARM_SMCContext *response)
{
    const seL4_Word *in = (const seL4_Word *)args;
    seL4_Word *out = (seL4_Word *)response;
    for (int i = 0; i < 8; i++) seL4_SetMR(i, in[i]);
    seL4_Error error = seL4_virtkit_invoke(cap, ARMSMCCall, 8);
    for (int i = 0; error == seL4_NoError && i < 8; i++) out[i] = seL4_GetMR(i);
    return error;
}
