/* examples/common/cli.h — command-line options and --help for the example programs.
 *
 * Each example lists its options in an array of ex_opt; every value pointer holds the option's
 * default on entry, which --help shows. Options are written "--name value" or "--name=value";
 * flags take no value. Anything that does not start with "--" (including negative numbers such
 * as -1.5) is a positional argument. */
#ifndef NABLA_EXAMPLES_CLI_H
#define NABLA_EXAMPLES_CLI_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ex_opt_kind {
    EX_OPT_FLAG,   /* bool *: set to true when present */
    EX_OPT_INT,    /* int * */
    EX_OPT_U64,    /* uint64_t * (seeds) */
    EX_OPT_DOUBLE, /* double * */
    EX_OPT_STRING, /* const char **: points into argv (or the default's storage) */
} ex_opt_kind;

typedef struct ex_opt {
    const char *name; /* "steps" is given as --steps */
    ex_opt_kind kind;
    void *value; /* default on entry, parsed value on return */
    const char *help;
    /* The values accepted (EX_OPT_INT, EX_OPT_U64, EX_OPT_DOUBLE), checked by ex_parse_args
     * after parsing and shown by --help: "2..256" (inclusive; a bound may be left out, "1.." is
     * >= 1) or ">0" (above 0). NULL or left out: any value of the kind. */
    const char *range;
} ex_opt;

typedef struct ex_program {
    const char *name;       /* program name shown in usage */
    const char *summary;    /* one line: what the exercise is */
    const char *details;    /* printed after the option list by --help (may be NULL) */
    const char *positional; /* usage text for positional arguments, NULL if none accepted */
    int max_positional;     /* how many positional arguments fit in the caller's array */
    /* Which exercise of which file of the course notes (../shared/course/) the program
     * reproduces, shown second by --help: "notes 001 (slides), CNN section: ..." */
    const char *notes;
} ex_program;

/* What the caller does after parsing. */
typedef enum ex_args_result {
    EX_ARGS_RUN = 0,  /* go on */
    EX_ARGS_HELP = 1, /* --help was printed: exit with status 0 */
    EX_ARGS_ERROR = 2 /* a usage error was printed to stderr: exit with status 2 */
} ex_args_result;

/* Parse argv into opts. Positional arguments are stored in positional[0 .. *n_positional-1]
 * (pointers into argv); positional and n_positional may be NULL when prog->max_positional is 0.
 * Prints the help text to stdout for --help / -h, and errors (unknown option, missing or
 * malformed value, too many positional arguments) to stderr. */
ex_args_result ex_parse_args(const ex_program *prog, ex_opt *opts, int n_opts, int argc,
                             char **argv, char **positional, int *n_positional);

/* Print "name: message" and a hint to run --help to stderr; returns EX_ARGS_ERROR (2), the exit
 * status for a usage error. For range checks done by the example after parsing. */
int ex_usage_error(const ex_program *prog, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
