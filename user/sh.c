// sh: the shell. Reads command lines from the standard input until end
// of file and runs them: arguments, pipes (a | b), redirection (< > >>),
// lists (a ; b), background jobs (a &), subshells ( ( a ; b ) > f ),
// quotes ('...' "..."), comments (#...), and the built-ins cd and exit.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/param.h"
#include "user/user.h"

#define LINESIZE 512
#define NNODES   64

// A parsed command line is a tree of these nodes.
enum { EXEC = 1, SUB, PIPE, LIST, BACK };

struct cmd {
  int type;
  int argc;                 // EXEC: the words
  char *argv[MAXARG + 1];
  char *in, *out;           // EXEC, SUB: redirections, or 0
  int append;               // out is opened with >>
  struct cmd *left;         // SUB: the inner list; PIPE, LIST, BACK
  struct cmd *right;        // PIPE, LIST
};

// The parser's state, rebuilt for each line. Words are copied into
// words[] (with their quotes removed), so the line itself stays intact.
static struct cmd nodes[NNODES];
static int nnodes;
static char words[2 * LINESIZE];
static char *wp;            // next free byte in words
static char *ps;            // parse position in the line
static int parse_error;

static const char specials[] = "|<>;&()";

static void
syntax(const char *msg)
{
  if(!parse_error)
    fprintf(2, "sh: syntax error: %s\n", msg);
  parse_error = 1;
}

static struct cmd*
newcmd(int type, struct cmd *left, struct cmd *right)
{
  struct cmd *c;

  if(nnodes == NNODES){
    syntax("command too long");
    return 0;
  }
  c = &nodes[nnodes++];
  memset(c, 0, sizeof(*c));
  c->type = type;
  c->left = left;
  c->right = right;
  return c;
}

static int
isspace(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v';
}

// Skip blanks and a comment; return the kind of the next token without
// taking it: one of specials, 'w' for a word, or 0 at the end.
static int
peek(void)
{
  while(isspace(*ps))
    ps++;
  if(*ps == '#')
    while(*ps)
      ps++;
  if(*ps == 0)
    return 0;
  if(strchr(specials, *ps))
    return *ps;
  return 'w';
}

// Take the next token. A word is copied to words[] and returned through
// *word. ">>" is returned as '+'.
static int
next(char **word)
{
  int t = peek();
  char quote;

  if(t != 'w'){
    if(t != 0)
      ps++;
    if(t == '>' && *ps == '>'){
      ps++;
      t = '+';
    }
    return t;
  }
  *word = wp;
  while(*ps && !isspace(*ps) && !strchr(specials, *ps)){
    if(*ps == '"' || *ps == '\''){
      quote = *ps++;
      while(*ps && *ps != quote)
        *wp++ = *ps++;
      if(*ps != quote)
        syntax("unmatched quote");
      else
        ps++;
    } else {
      *wp++ = *ps++;
    }
  }
  *wp++ = 0;
  return 'w';
}

// Parse a redirection whose operator (t) has been taken.
static void
parseredir(struct cmd *c, int t)
{
  char *file;

  if(next(&file) != 'w'){
    syntax("missing file name after redirection");
    return;
  }
  if(t == '<'){
    c->in = file;
  } else {
    c->out = file;
    c->append = (t == '+');
  }
}

static struct cmd *parselist(void);

// command := '(' list ')' redirections | { word | redirection }+
static struct cmd*
parsecmd(void)
{
  struct cmd *c;
  char *word;
  int t;

  if(peek() == '('){
    next(0);
    c = newcmd(SUB, parselist(), 0);
    if(next(0) != ')')
      syntax("missing )");
    while(c && ((t = peek()) == '<' || t == '>'))
      parseredir(c, next(0));
    return c;
  }

  if((c = newcmd(EXEC, 0, 0)) == 0)
    return 0;
  while((t = peek()) == 'w' || t == '<' || t == '>'){
    if((t = next(&word)) != 'w'){
      parseredir(c, t);
    } else if(c->argc == MAXARG){
      syntax("too many arguments");
      return 0;
    } else {
      c->argv[c->argc++] = word;
    }
  }
  if(c->argc == 0 && c->in == 0 && c->out == 0)
    syntax("missing command");
  return c;
}

// pipeline := command { '|' command }
static struct cmd*
parsepipe(void)
{
  struct cmd *c = parsecmd();

  if(peek() == '|'){
    next(0);
    c = newcmd(PIPE, c, parsepipe());
  }
  return c;
}

// list := pipeline { (';' | '&') pipeline } [';' | '&']
static struct cmd*
parselist(void)
{
  struct cmd *c = parsepipe();
  int t = peek();

  if(t == '&'){
    next(0);
    c = newcmd(BACK, c, 0);
  } else if(t == ';'){
    next(0);
  } else {
    return c;
  }
  t = peek();
  if(t == 'w' || t == '(' || t == '<' || t == '>')
    c = newcmd(LIST, c, parselist());
  return c;
}

// Parse a whole line. Returns its tree, or 0 for an empty line or after
// a syntax error.
static struct cmd*
parseline(char *line)
{
  struct cmd *c;

  nnodes = 0;
  wp = words;
  ps = line;
  parse_error = 0;
  if(peek() == 0)
    return 0;   // an empty line, or only a comment
  c = parselist();
  if(peek() != 0)
    syntax(*ps == ')' ? "unexpected )" : "unexpected token");
  return parse_error ? 0 : c;
}

// ---- running ----------------------------------------------------------

__attribute__((noreturn)) static void runcmd(struct cmd *c);

__attribute__((noreturn)) static void
die(const char *msg)
{
  fprintf(2, "sh: %s\n", msg);
  exit(1);
}

static int
fork1(void)
{
  int pid = fork();

  if(pid < 0)
    die("fork failed");
  return pid;
}

// Make fd refer to the file opened as path with mode.
static void
openas(int fd, char *path, int mode)
{
  int f = open(path, mode);

  if(f < 0){
    fprintf(2, "sh: cannot open %s\n", path);
    exit(1);
  }
  if(f != fd){
    close(fd);
    dup(f);
    close(f);
  }
}

// There is no seek system call: reach the end of fd by reading it.
static void
skiptoend(int fd)
{
  static char buf[512];

  while(read(fd, buf, sizeof(buf)) > 0)
    ;
}

static void
redirect(struct cmd *c)
{
  if(c->in)
    openas(0, c->in, O_RDONLY);
  if(c->out && c->append){
    openas(1, c->out, O_RDWR | O_CREATE);
    skiptoend(1);
  } else if(c->out) {
    openas(1, c->out, O_WRONLY | O_CREATE | O_TRUNC);
  }
}

// Execute argv; a bare name not found here is looked for in /.
__attribute__((noreturn)) static void
runexec(struct cmd *c)
{
  static char path[MAXPATH];

  if(c->argc == 0)
    exit(0);
  exec(c->argv[0], c->argv);
  if(strchr(c->argv[0], '/') == 0 && strlen(c->argv[0]) + 2 <= MAXPATH){
    path[0] = '/';
    strcpy(path + 1, c->argv[0]);
    exec(path, c->argv);
  }
  fprintf(2, "exec %s failed\n", c->argv[0]);
  exit(1);
}

// Connect the output of left to the input of right. Exits with the
// status of right.
__attribute__((noreturn)) static void
runpipe(struct cmd *c)
{
  int p[2], right, pid, status, rstatus = 0;

  if(pipe(p) < 0)
    die("pipe failed");
  if(fork1() == 0){
    close(1);
    dup(p[1]);
    close(p[0]);
    close(p[1]);
    runcmd(c->left);
  }
  if((right = fork1()) == 0){
    close(0);
    dup(p[0]);
    close(p[0]);
    close(p[1]);
    runcmd(c->right);
  }
  close(p[0]);
  close(p[1]);
  while((pid = wait(&status)) >= 0)
    if(pid == right)
      rstatus = status;
  exit(rstatus);
}

// The built-ins run in the shell itself. Returns 1 if c was one.
static int
builtin(struct cmd *c)
{
  char *dir;

  if(c->type != EXEC || c->argc == 0 || c->in || c->out)
    return 0;
  if(strcmp(c->argv[0], "cd") == 0){
    dir = c->argc > 1 ? c->argv[1] : "/";
    if(chdir(dir) < 0)
      fprintf(2, "cd: cannot cd to %s\n", dir);
    return 1;
  }
  if(strcmp(c->argv[0], "exit") == 0)
    exit(c->argc > 1 ? atoi(c->argv[1]) : 0);
  return 0;
}

// Run the tree c in this process, which is a child of the shell, and
// exit with its status. Never returns.
static void
runcmd(struct cmd *c)
{
  int status;

  switch(c->type){
  case EXEC:
    if(builtin(c))
      exit(0);   // cd in a subshell: affects only the subshell
    redirect(c);
    runexec(c);
    break;
  case SUB:
    redirect(c);
    runcmd(c->left);
  case PIPE:
    runpipe(c);
    break;
  case LIST:
    if(!builtin(c->left)){
      if(fork1() == 0)
        runcmd(c->left);
      wait(&status);
    }
    runcmd(c->right);
  case BACK:
    // The job's parent exits at once; init adopts and reaps the job.
    if(fork1() == 0)
      runcmd(c->left);
    exit(0);
  }
  die("bad command tree");
}

// Run a parsed line. The commands of a top-level list run one after
// the other from the shell itself, so that a built-in such as cd in
// "mkdir d ; cd d" changes the shell's own state.
static void
runline(struct cmd *c)
{
  int pid;

  if(c->type == LIST){
    runline(c->left);
    runline(c->right);
    return;
  }
  if(builtin(c))
    return;
  // Not fork1: the shell itself must survive a full process table.
  if((pid = fork()) < 0){
    fprintf(2, "sh: fork failed\n");
    return;
  }
  if(pid == 0)
    runcmd(c);
  wait(0);
}

// Read a line into buf, prompting if the input is the console. Returns
// 0 at end of file.
static int
getcmd(char *buf, int size, int interactive)
{
  if(interactive)
    fprintf(2, "$ ");
  memset(buf, 0, size);
  gets(buf, size);
  return buf[0] != 0;
}

int
main(void)
{
  static char line[LINESIZE];
  struct stat st;
  struct cmd *c;
  int fd, interactive;

  // Make sure fds 0, 1 and 2 are open.
  while((fd = open("console", O_RDWR)) >= 0){
    if(fd >= 3){
      close(fd);
      break;
    }
  }
  interactive = fstat(0, &st) == 0 && st.type == T_DEVICE;

  while(getcmd(line, sizeof(line), interactive)){
    if((c = parseline(line)) != 0)
      runline(c);
  }
  return 0;
}
