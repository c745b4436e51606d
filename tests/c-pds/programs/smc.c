/* Asks the board's firmware for its PSCI version through seL4's SMC capability. */
#include <microkit.h>

#define PSCI_VERSION 0x84000000

void init(void)
{
    seL4_ARM_SMCContext args = { .x0 = PSCI_VERSION };
    seL4_ARM_SMCContext response = { 0 };
    microkit_arm_smc_call(&args, &response);
    microkit_dbg_puts("smc: PSCI version ");
    microkit_dbg_put32(response.x0 >> 16);
    microkit_dbg_puts(".");
    microkit_dbg_put32(response.x0 & 0xffff);
    microkit_dbg_puts("\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}
