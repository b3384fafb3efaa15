/* examples/common/cli.c — option parsing and --help for the example programs. */
#include "common/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_meta(ex_opt_kind kind)
{
    switch (kind) {
    case EX_OPT_INT:
        return " N";
    case EX_OPT_U64:
        return " SEED";
    case EX_OPT_DOUBLE:
        return " X";
    case EX_OPT_STRING:
        return " TEXT";
    case EX_OPT_FLAG:
        break;
    }
    return "";
}

static void print_default(const ex_opt *o)
{
    switch (o->kind) {
    case EX_OPT_INT:
        printf(" (default %d)", *(const int *)o->value);
        break;
    case EX_OPT_U64:
        printf(" (default %" PRIu64 ")", *(const uint64_t *)o->value);
        break;
    case EX_OPT_DOUBLE:
        printf(" (default %g)", *(const double *)o->value);
        break;
    case EX_OPT_STRING: {
        const char *v = *(const char *const *)o->value;
        if (v && *v)
            printf(" (default %s)", v);
        break;
    }
    case EX_OPT_FLAG:
        break;
    }
}

/* An option's numeric value as a double, for its range (0 for the other kinds). */
static double numeric_value(const ex_opt *o)
{
    switch (o->kind) {
    case EX_OPT_INT:
        return *(const int *)o->value;
    case EX_OPT_U64:
        return (double)*(const uint64_t *)o->value;
    case EX_OPT_DOUBLE:
        return *(const double *)o->value;
    case EX_OPT_STRING:
    case EX_OPT_FLAG:
        break;
    }
    return 0;
}

/* Whether v is in range ("a..b", "a..", "..b" or ">x"; NULL: anything), and the range in words
 * ("in 2..256", ">= 1", "> 0") in text. */
static bool in_range(const char *range, double v, char *text, size_t size)
{
    if (!range) {
        snprintf(text, size, "any value");
        return true;
    }
    if (range[0] == '>') {
        snprintf(text, size, "> %s", range + 1);
        return v > strtod(range + 1, NULL);
    }
    const char *dots = strstr(range, "..");
    const bool lo = dots && dots > range, hi = dots && dots[2];
    if (lo && hi)
        snprintf(text, size, "in %s", range);
    else if (lo)
        snprintf(text, size, ">= %.*s", (int)(dots - range), range);
    else
        snprintf(text, size, "<= %s", dots ? dots + 2 : range);
    return (!lo || v >= strtod(range, NULL)) && (!hi || v <= strtod(dots + 2, NULL));
}

static void print_help(const ex_program *prog, const ex_opt *opts, int n_opts)
{
    printf("%s — %s\n\n", prog->name, prog->summary);
    if (prog->notes)
        printf("Reproduces %s\n\n", prog->notes);
    printf("usage: %s [options]%s%s\n\noptions:\n", prog->name, prog->positional ? " " : "",
           prog->positional ? prog->positional : "");
    printf("  %-22s %s\n", "-h, --help", "show this help and exit");
    for (int i = 0; i < n_opts; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s", opts[i].name, kind_meta(opts[i].kind));
        printf("  %-22s %s", left, opts[i].help);
        print_default(&opts[i]);
        char range[64];
        if (opts[i].range && opts[i].kind != EX_OPT_STRING && opts[i].kind != EX_OPT_FLAG) {
            in_range(opts[i].range, 0, range, sizeof range);
            printf(" [%s]", range);
        }
        printf("\n");
    }
    if (prog->details)
        printf("\n%s", prog->details);
}

int ex_usage_error(const ex_program *prog, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(run %s --help for the options)\n", prog->name);
    return EX_ARGS_ERROR;
}

static bool parse_value(const ex_opt *o, const char *s)
{
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case EX_OPT_INT: {
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
            return false;
        *(int *)o->value = (int)v;
        return true;
    }
    case EX_OPT_U64: {
        if (*s == '-')
            return false;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end)
            return false;
        *(uint64_t *)o->value = (uint64_t)v;
        return true;
    }
    case EX_OPT_DOUBLE: {
        double v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v))
            return false;
        *(double *)o->value = v;
        return true;
    }
    case EX_OPT_STRING:
        if (!*s)
            return false;
        *(const char **)o->value = s;
        return true;
    case EX_OPT_FLAG:
        break;
    }
    return false;
}

ex_args_result ex_parse_args(const ex_program *prog, ex_opt *opts, int n_opts, int argc,
                             char **argv, char **positional, int *n_positional)
{
    int n_pos = 0;
    if (n_positional)
        *n_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            print_help(prog, opts, n_opts);
            return EX_ARGS_HELP;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (!prog->positional || !positional || n_pos >= prog->max_positional)
                return (ex_args_result)ex_usage_error(
                    prog, "unexpected argument '%s'%s", arg,
                    prog->positional ? " (too many positional arguments)" : "");
            positional[n_pos++] = argv[i];
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const ex_opt *o = NULL;
        for (int k = 0; k < n_opts && !o; k++)
            if (strlen(opts[k].name) == len && !strncmp(opts[k].name, name, len))
                o = &opts[k];
        if (!o)
            return (ex_args_result)ex_usage_error(prog, "unknown option '%s'", arg);
        if (o->kind == EX_OPT_FLAG) {
            if (eq)
                return (ex_args_result)ex_usage_error(prog, "option --%s takes no value", o->name);
            *(bool *)o->value = true;
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val)
            return (ex_args_result)ex_usage_error(prog, "option --%s needs a value", o->name);
        if (!parse_value(o, val))
            return (ex_args_result)ex_usage_error(prog, "option --%s: '%s' is not a valid %s",
                                                  o->name, val,
                                                  o->kind == EX_OPT_DOUBLE ? "number"
                                                  : o->kind == EX_OPT_U64  ? "non-negative integer"
                                                  : o->kind == EX_OPT_STRING ? "non-empty text"
                                                                             : "integer");
    }
    for (int k = 0; k < n_opts; k++) {
        char range[64];
        if (opts[k].range && opts[k].kind != EX_OPT_STRING && opts[k].kind != EX_OPT_FLAG &&
            !in_range(opts[k].range, numeric_value(&opts[k]), range, sizeof range))
            return (ex_args_result)ex_usage_error(prog, "option --%s must be %s, got %.17g",
                                                  opts[k].name, range, numeric_value(&opts[k]));
    }
    if (n_positional)
        *n_positional = n_pos;
    return EX_ARGS_RUN;
}
