/*
 * The command's documentation, written once (src/cli/help.c): `barge CMD
 * --help` prints a page, and `barge man-pages DIR` writes the same pages
 * as roff, barge(1), barge-CMD(1) and barge-plan(5), so --help and the man
 * pages cannot disagree. The completions read the same tables through
 * `barge complete` (src/cli/complete.c).
 */
#ifndef BARGE_CLI_HELP_H
#define BARGE_CLI_HELP_H

#include <stdio.h>

/* One option (or, in barge-plan(5), one key). */
struct cli_item {
	const char *name; /* "--state" */
	const char *arg;  /* "FILE", or NULL for a flag */
	const char *text; /* one paragraph, wrapped by the printers */
};

/* A titled list of items, ended by an item with a NULL name. */
struct cli_section {
	const char *title; /* "OPTIONS", "SETTINGS", ... */
	const char *intro; /* a paragraph above the items, or NULL */
	const struct cli_item *items;
};

#define CLI_MAX_SECTIONS 4

struct cli_page {
	const char *name;        /* "copy"; "barge" for barge(1); "plan" */
	int section;             /* man section: 1 or 5 */
	const char *summary;     /* one line, for NAME and `barge --help` */
	const char *synopsis;    /* lines ('\n'), each a form of the command */
	const char *description; /* paragraphs separated by "\n\n" */
	const struct cli_section *sections[CLI_MAX_SECTIONS]; /* NULL-ended */
};

/* The page of a subcommand (or "barge", "plan"); NULL when there is none. */
const struct cli_page *cli_page_find(const char *name);
/* The pages, in order, ended by NULL: barge, the commands, plan. */
extern const struct cli_page *const cli_pages[];

/* Print a subcommand's --help to f. */
void cli_help_print(FILE *f, const char *name);
/* Print `barge --help`. */
void cli_help_main(FILE *f);

/* barge man-pages DIR: write every page as roff into DIR. */
int cmd_man_pages(int argc, char **argv);

#endif
