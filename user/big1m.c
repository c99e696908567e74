// big1m: a program whose file is about 1 MB (an initialized array in
// .data), which exits at once: bench's exec_1m, against exec_100k, shows
// how exec's cost grows with the size of the program it loads.
#include "kernel/types.h"
#include "user/user.h"

// Initialized, so it is in the file; not static, and read by main, so
// neither the compiler nor the linker drops it.
char big1m_data[1024 * 1024] = { 1 };

int
main(void)
{
  exit(big1m_data[0] - 1);
}
