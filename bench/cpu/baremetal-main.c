// Bare-metal entry for virtkit (with the test guests' runtime): MMU on as under Linux, the iteration
// count from the host (HVC #2), the checksum back as checkpoint 1.
#include "lib/mmu.h"

u64 workload(u64 iterations);

int main(void) {
  mmu_init();
  mmu_enable();
  u64 iterations = host_request(1, 0);
  checkpoint(1, workload(iterations));
  return 0;
}
