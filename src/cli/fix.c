/*
 * barge fix SRC DST | PLAN.yaml: verify, re-copy exactly the differing
 * keys, verify again (the options and the output are verify's: verify.c).
 */
#include "cli.h"

int cmd_fix(int argc, char **argv)
{
	return verify_cli(argc, argv, 1);
}
