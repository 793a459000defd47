#include "cli/cli.h"
int cmd_graph(int argc, char **argv) { (void)argc; (void)argv; return 2; }
