#include "barge/barge.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("barge %s\n", barge_version());
		return 0;
	}
	fprintf(stderr, "barge: not yet\n");
	return 2;
}
