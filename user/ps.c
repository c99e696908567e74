// ps: list the tasks, user processes and kernel threads, with the
// procinfo() system call. Kernel threads show their name in brackets.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/procinfo.h"
#include "user/user.h"

static struct procinfo table[NPROC];

static const char*
statename(int state)
{
  switch(state){
  case PI_SLEEPING: return "sleeping";
  case PI_RUNNABLE: return "runnable";
  case PI_RUNNING:  return "running";
  case PI_ZOMBIE:   return "zombie";
  }
  return "unused";
}

static void
show(struct procinfo *p)
{
  char name[sizeof(p->name) + 3];
  int n;

  printf("%5d %5d %-8s ", p->pid, p->ppid, statename(p->state));
  if(p->hart < 0)
    printf("%4s ", "-");
  else
    printf("%4d ", p->hart);
  p->name[sizeof(p->name) - 1] = 0;
  if(p->kthread){
    name[0] = '[';
    strcpy(name + 1, p->name);
    n = strlen(name);
    name[n] = ']';
    name[n + 1] = 0;
  } else {
    strcpy(name, p->name);
  }
  printf("%8lu %s\n", p->size, name);
}

int
main(void)
{
  int i, n;

  n = procinfo(table, NPROC);
  if(n < 0){
    fprintf(2, "ps: procinfo failed\n");
    return 1;
  }
  if(n > NPROC)
    n = NPROC;
  printf("%5s %5s %-8s %4s %8s %s\n", "PID", "PPID", "STATE", "HART",
         "SIZE", "NAME");
  for(i = 0; i < n; i++){
    if(table[i].state != PI_UNUSED)
      show(&table[i]);
  }
  return 0;
}
