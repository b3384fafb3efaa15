/* report/progress.c — the progress bar: redrawn in place on a terminal, periodic plain lines in
 * logs. Shows steps done/total, percentage, mean loss since the last update, items/s, elapsed, ETA.
 */
#include "io/file_util.h"
#include "nabla/report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

struct nb_progress {
    char label[64];
    char note[128];
    int64_t total, done, items;
    FILE *out;
    nb_progress_mode mode;
    int64_t every;
    double redraw, t0, last_draw;
    int width;
    double (*clock)(void *);
    void *clock_user;
    double loss_sum; /* over the run */
    int64_t loss_n;  /* steps with a loss */
    double win_sum;  /* since the last line */
    int64_t win_n;
    bool dirty; /* a terminal line is shown without its newline */
};

static double system_clock(void *user)
{
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

char *nb_format_duration(double s, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    if (!(s >= 0) || s > 1e9)
        snprintf(buf, size, "?");
    else if (s < 60)
        snprintf(buf, size, "%.1fs", s);
    else if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    return buf;
}

static int terminal_width(FILE *f)
{
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    int w = c ? atoi(c) : 0;
    return w > 20 ? w : 80;
}

nb_progress *nb_progress_new(const char *label, int64_t total, const nb_progress_opts *opts)
{
    if (total < 0) {
        nb_set_error(NB_ERR_VALUE, "nb_progress_new: total %" PRId64 " is negative", total);
        return NULL;
    }
    nb_progress *p = nb_calloc(1, sizeof *p);
    if (!p) {
        nb_set_error(NB_ERR_NOMEM, "nb_progress_new: out of memory");
        return NULL;
    }
    nb_progress_opts o = opts ? *opts : (nb_progress_opts){0};
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->out = o.stream ? o.stream : stderr;
    p->mode = o.mode;
    if (p->mode == NB_PROGRESS_AUTO) {
        const char *env = getenv("NB_PROGRESS");
        if (env && !strcmp(env, "plain"))
            p->mode = NB_PROGRESS_PLAIN;
        else if (env && !strcmp(env, "quiet"))
            p->mode = NB_PROGRESS_QUIET;
        else if (env && !strcmp(env, "tty"))
            p->mode = NB_PROGRESS_TTY;
        else
            p->mode = isatty(fileno(p->out)) ? NB_PROGRESS_TTY : NB_PROGRESS_PLAIN;
    }
    p->every = o.print_every > 0 ? o.print_every : (total >= 10 ? total / 10 : (total ? 1 : 100));
    p->redraw = o.redraw_seconds > 0 ? o.redraw_seconds : 0.1;
    p->width = o.width > 20 ? o.width : (p->mode == NB_PROGRESS_TTY ? terminal_width(p->out) : 80);
    p->clock = o.clock ? o.clock : system_clock;
    p->clock_user = o.clock_user;
    p->t0 = p->clock(p->clock_user);
    p->last_draw = -INFINITY;
    return p;
}

/* The status text after the bar: "12/100  12%  loss 0.4321  850 items/s  1.2s  ETA 8.8s". */
static void status_text(nb_progress *p, double now, bool final, char *buf, size_t size)
{
    double el = now - p->t0;
    char e[32], eta[32];
    int n = 0;
    if (p->total > 0)
        n = snprintf(buf, size, "%" PRId64 "/%" PRId64 " %3d%%", p->done, p->total,
                     (int)(100.0 * (double)p->done / (double)p->total));
    else
        n = snprintf(buf, size, "%" PRId64 " steps", p->done);
    double loss = final ? (p->loss_n ? p->loss_sum / (double)p->loss_n : NAN)
                        : (p->win_n ? p->win_sum / (double)p->win_n : NAN);
    if (!isnan(loss) && n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "  %s %.4g", final ? "mean loss" : "loss", loss);
    if (p->items > 0 && el > 0 && n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "  %.0f items/s", (double)p->items / el);
    if (n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "  %s", nb_format_duration(el, e, sizeof e));
    if (!final && p->total > 0 && p->done > 0 && p->done < p->total && n >= 0 && (size_t)n < size) {
        double left = el / (double)p->done * (double)(p->total - p->done);
        n += snprintf(buf + n, size - (size_t)n, "  ETA %s",
                      nb_format_duration(left, eta, sizeof eta));
    }
    if (p->note[0] && n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, "  %s", p->note);
}

static void draw(nb_progress *p, double now, bool final)
{
    char status[512];
    status_text(p, now, final, status, sizeof status);
    if (p->mode == NB_PROGRESS_PLAIN) {
        fprintf(p->out, "%s%s%s\n", p->label, p->label[0] ? "  " : "", status);
    } else {
        /* "\r" + label + [=====>    ] + status, cut to the terminal width */
        char line[1024];
        int w = p->width - 1 < (int)sizeof line - 1 ? p->width - 1 : (int)sizeof line - 1;
        int n = snprintf(line, sizeof line, "%s%s", p->label, p->label[0] ? " " : "");
        int room = w - n - (int)strlen(status) - 3;
        if (p->total > 0 && room >= 10 && n >= 0) {
            int bar = room > 40 ? 40 : room;
            int fill = (int)((double)bar * (double)p->done / (double)p->total);
            line[n++] = '[';
            for (int i = 0; i < bar; i++)
                line[n++] = i < fill ? '=' : (i == fill ? '>' : ' ');
            line[n++] = ']';
            line[n++] = ' ';
            line[n] = '\0';
        }
        if (n >= 0 && n < (int)sizeof line)
            snprintf(line + n, sizeof line - (size_t)n, "%s", status);
        line[w > 0 ? w : 0] = '\0';
        fprintf(p->out, "\r%-*s", w, line);
        p->dirty = true;
        if (final) {
            fputc('\n', p->out);
            p->dirty = false;
        }
    }
    fflush(p->out);
    p->last_draw = now;
    p->win_sum = 0;
    p->win_n = 0;
}

void nb_progress_advance(nb_progress *p, int64_t items, double loss)
{
    if (!p)
        return;
    p->done++;
    p->items += items > 0 ? items : 0;
    if (!isnan(loss)) {
        p->loss_sum += loss;
        p->loss_n++;
        p->win_sum += loss;
        p->win_n++;
    }
    if (p->mode == NB_PROGRESS_QUIET)
        return;
    double now = p->clock(p->clock_user);
    if (p->mode == NB_PROGRESS_PLAIN) {
        if (p->done % p->every == 0 && p->done != p->total)
            draw(p, now, false);
    } else if (now - p->last_draw >= p->redraw || p->done == p->total) {
        draw(p, now, false);
    }
}

void nb_progress_note(nb_progress *p, const char *note)
{
    if (p)
        snprintf(p->note, sizeof p->note, "%s", note ? note : "");
}

void nb_progress_finish(nb_progress *p)
{
    if (!p || p->mode == NB_PROGRESS_QUIET)
        return;
    draw(p, p->clock(p->clock_user), true);
}

double nb_progress_mean_loss(const nb_progress *p)
{
    return p && p->loss_n ? p->loss_sum / (double)p->loss_n : NAN;
}

void nb_progress_free(nb_progress *p)
{
    if (p && p->dirty) {
        fputc('\n', p->out);
        fflush(p->out);
    }
    nb_free(p);
}
