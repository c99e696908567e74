// big100k: a program whose file is about 100 KB (an initialized array in
// .data), which exits at once: bench's exec_100k measures how exec's cost
// grows with the size of the program it loads.
#include "kernel/types.h"
#include "user/user.h"

// Initialized, so it is in the file; not static, and read by main, so
// neither the compiler nor the linker drops it.
char big100k_data[100 * 1024] = { 1 };

int
main(void)
{
  exit(big100k_data[0] - 1);
}
