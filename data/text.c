/* data/text.c — word tokenizer (vocabulary by frequency), padding of id sequences, masks,
 * sequence-to-sequence batches; character text (one id per byte) and its windows. */
#include "io/file_util.h"
#include "nabla.h"

#include <stdlib.h>
#include <string.h>

/* ======================================================================================
 * Padding and masks
 * ====================================================================================== */

nb_pad_opts nb_pad_defaults(void)
{
    return (nb_pad_opts){.maxlen = 0, .padding = NB_PAD_PRE, .truncating = NB_PAD_PRE, .value = 0};
}

nb_tensor *nb_pad_sequences(int n, const int64_t *const *seqs, const int64_t *lens,
                            const nb_pad_opts *opts)
{
    const char *fn = "nb_pad_sequences";
    nb_pad_opts o = opts ? *opts : nb_pad_defaults();
    if (n < 1 || !seqs || !lens) {
        nb_set_error(NB_ERR_VALUE, "%s: need n >= 1 sequences and their lengths (n = %d)", fn, n);
        return NULL;
    }
    if (o.maxlen < 0) {
        nb_set_error(NB_ERR_VALUE, "%s: maxlen must be >= 0 (0 = longest), got %lld", fn,
                     (long long)o.maxlen);
        return NULL;
    }
    int64_t longest = 1;
    for (int i = 0; i < n; i++) {
        if (lens[i] < 0 || (lens[i] > 0 && !seqs[i])) {
            nb_set_error(NB_ERR_VALUE, "%s: sequence %d: length %lld%s", fn, i, (long long)lens[i],
                         lens[i] < 0 ? " is negative" : " but no data");
            return NULL;
        }
        if (lens[i] > longest)
            longest = lens[i];
    }
    const int64_t L = o.maxlen > 0 ? o.maxlen : longest;
    nb_tensor *out = nb_tensor_full(NB_I64, 2, (int64_t[]){n, L}, (double)o.value);
    if (!out)
        return NULL;
    int64_t *d = nb_tensor_data_i64(out);
    for (int i = 0; i < n; i++) {
        int64_t len = lens[i], skip = 0;
        if (len > L) {
            skip = o.truncating == NB_PAD_PRE ? len - L : 0; /* pre: keep the last L */
            len = L;
        }
        int64_t *row = d + (int64_t)i * L + (o.padding == NB_PAD_PRE ? L - len : 0);
        if (len > 0)
            memcpy(row, seqs[i] + skip, (size_t)len * sizeof *row);
    }
    return out;
}

nb_tensor *nb_padding_mask(nb_tensor *ids, int64_t pad_id, nb_dtype dtype)
{
    const char *fn = "nb_padding_mask";
    if (!ids) {
        if (nb_last_status() == NB_OK)
            nb_set_error(NB_ERR_VALUE, "%s: ids is NULL", fn);
        return NULL;
    }
    if (nb_tensor_dtype(ids) != NB_I64 || (dtype != NB_F32 && dtype != NB_F64)) {
        nb_set_error(NB_ERR_DTYPE, "%s: ids must be i64 and the mask f32 or f64, got %s -> %s", fn,
                     nb_dtype_name(nb_tensor_dtype(ids)), nb_dtype_name(dtype));
        return NULL;
    }
    nb_tensor *m = nb_constant(dtype, nb_tensor_ndim(ids), nb_tensor_shape(ids), 0.0);
    if (!m)
        return NULL;
    const int64_t n = nb_tensor_numel(ids);
    for (int64_t i = 0; i < n; i++)
        if ((int64_t)nb_tensor_get(ids, i) != pad_id)
            nb_tensor_set(m, i, 1.0);
    return m;
}

nb_status nb_sequence_lengths(nb_tensor *ids, int64_t pad_id, int64_t *lengths)
{
    const char *fn = "nb_sequence_lengths";
    if (!ids || !lengths)
        return nb_set_error(NB_ERR_VALUE, "%s: ids and lengths must not be NULL", fn);
    if (nb_tensor_dtype(ids) != NB_I64)
        return nb_set_error(NB_ERR_DTYPE, "%s: ids must be i64, got %s", fn,
                            nb_dtype_name(nb_tensor_dtype(ids)));
    if (nb_tensor_ndim(ids) != 2) {
        char s[64];
        return nb_set_error(NB_ERR_SHAPE, "%s: ids must be [N, L], got %s", fn,
                            nb_tensor_shape_str(ids, s, sizeof s));
    }
    const int64_t N = nb_tensor_dim(ids, 0), L = nb_tensor_dim(ids, 1);
    for (int64_t i = 0; i < N; i++) {
        lengths[i] = 0;
        for (int64_t j = 0; j < L; j++)
            lengths[i] += (int64_t)nb_tensor_get(ids, i * L + j) != pad_id;
    }
    return NB_OK;
}

/* ======================================================================================
 * Sequence-to-sequence batches
 * ====================================================================================== */

void nb_seq2seq_batch_deinit(nb_seq2seq_batch *b)
{
    if (!b)
        return;
    nb_free(b->lens);
    nb_tensor_free(b->src), nb_tensor_free(b->pad), nb_tensor_free(b->dec_in);
    nb_tensor_free(b->tgt), nb_tensor_free(b->valid);
    *b = (nb_seq2seq_batch){0};
}

nb_status nb_seq2seq_batch_make(nb_seq2seq_batch *b, int64_t n, int64_t stride, const int64_t *src,
                                const int64_t *src_lens, const int64_t *tgt,
                                const int64_t *tgt_lens, int64_t bos, int64_t eos)
{
    const char *fn = "nb_seq2seq_batch_make";
    nb_seq2seq_batch_deinit(b);
    if (!b || !src || !src_lens || !tgt || !tgt_lens || n < 1 || stride < 1)
        return nb_set_error(NB_ERR_VALUE,
                            "%s: need a batch, ids and lengths, n >= 1 and stride >= 1 (n = %lld, "
                            "stride = %lld)",
                            fn, (long long)n, (long long)stride);
    int64_t S = 1, T = 1;
    for (int64_t i = 0; i < n; i++) {
        if (src_lens[i] < 1 || src_lens[i] > stride || tgt_lens[i] < 0 || tgt_lens[i] > stride)
            return nb_set_error(NB_ERR_VALUE,
                                "%s: pair %lld: source length %lld (need 1 to %lld), target "
                                "length %lld (need 0 to %lld)",
                                fn, (long long)i, (long long)src_lens[i], (long long)stride,
                                (long long)tgt_lens[i], (long long)stride);
        S = src_lens[i] > S ? src_lens[i] : S;
        T = tgt_lens[i] + 1 > T ? tgt_lens[i] + 1 : T;
    }
    b->n = n, b->S = S, b->T = T;
    b->lens = nb_malloc((size_t)n * sizeof *b->lens);
    b->src = nb_tensor_zeros(NB_I64, 2, (const int64_t[]){n, S});
    b->pad = nb_tensor_zeros(NB_F32, 2, (const int64_t[]){n, S});
    b->dec_in = nb_tensor_zeros(NB_I64, 2, (const int64_t[]){n, T});
    b->tgt = nb_tensor_zeros(NB_I64, 2, (const int64_t[]){n, T});
    b->valid = nb_tensor_zeros(NB_F32, 2, (const int64_t[]){n, T});
    if (!b->lens || !b->src || !b->pad || !b->dec_in || !b->tgt || !b->valid) {
        nb_seq2seq_batch_deinit(b);
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory for %lld pairs", fn, (long long)n);
    }
    int64_t *s = nb_tensor_data_i64(b->src), *din = nb_tensor_data_i64(b->dec_in);
    int64_t *y = nb_tensor_data_i64(b->tgt);
    float *pad = nb_tensor_data_f32(b->pad), *valid = nb_tensor_data_f32(b->valid);
    for (int64_t i = 0; i < n; i++) {
        const int64_t ns = b->lens[i] = src_lens[i], nt = tgt_lens[i];
        const int64_t *si = src + i * stride, *ti = tgt + i * stride;
        for (int64_t j = 0; j < S; j++) {
            s[i * S + j] = j < ns ? si[j] : 0;
            pad[i * S + j] = j < ns ? 0.0f : 1.0f;
        }
        for (int64_t t = 0; t < T; t++) {
            din[i * T + t] = t == 0 ? bos : t <= nt ? ti[t - 1] : 0;
            y[i * T + t] = t < nt ? ti[t] : t == nt ? eos : 0;
            valid[i * T + t] = t <= nt ? 1.0f : 0.0f;
        }
    }
    return NB_OK;
}

/* ======================================================================================
 * Tokenizer
 * ====================================================================================== */

typedef struct word {
    char *text;
    int64_t count;
    int64_t first; /* order of first appearance */
    int64_t id;
} word;

struct nb_tokenizer {
    nb_tokenizer_opts opts;
    char *oov;   /* owned copy of opts.oov_token */
    word *words; /* [n_words], in order of first appearance */
    int64_t n_words, cap_words;
    int64_t *slots; /* open-addressing hash: index into words, -1 empty; [n_slots] */
    int64_t n_slots;
    int64_t *by_id; /* [n_ids]: index into words of id (-1 for 0 and the OOV id) */
    int64_t n_ids;
};

nb_tokenizer_opts nb_tokenizer_defaults(void)
{
    return (nb_tokenizer_opts){.num_words = 0, .oov_token = NULL, .lower = true};
}

static char *dup_str(const char *s, size_t n)
{
    char *d = nb_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

nb_tokenizer *nb_tokenizer_new(const nb_tokenizer_opts *opts)
{
    const char *fn = "nb_tokenizer_new";
    nb_tokenizer_opts o = opts ? *opts : nb_tokenizer_defaults();
    if (o.num_words < 0) {
        nb_set_error(NB_ERR_VALUE, "%s: num_words must be >= 0 (0 = no limit), got %lld", fn,
                     (long long)o.num_words);
        return NULL;
    }
    if (o.oov_token && !*o.oov_token) {
        nb_set_error(NB_ERR_VALUE, "%s: oov_token must be NULL or a non-empty string", fn);
        return NULL;
    }
    nb_tokenizer *t = nb_calloc(1, sizeof *t);
    if (!t)
        goto oom;
    t->opts = o;
    if (o.oov_token && !(t->oov = dup_str(o.oov_token, strlen(o.oov_token))))
        goto oom;
    t->opts.oov_token = t->oov;
    t->n_ids = o.oov_token ? 2 : 1;
    if (!(t->by_id = nb_calloc((size_t)t->n_ids, sizeof *t->by_id)))
        goto oom;
    return t;
oom:
    nb_tokenizer_free(t);
    nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    return NULL;
}

void nb_tokenizer_free(nb_tokenizer *tok)
{
    if (!tok)
        return;
    for (int64_t i = 0; i < tok->n_words; i++)
        nb_free(tok->words[i].text);
    nb_free(tok->words);
    nb_free(tok->slots);
    nb_free(tok->by_id);
    nb_free(tok->oov);
    nb_free(tok);
}

/* A word separator: whitespace, control characters and the punctuation Keras filters. */
static bool is_separator(unsigned char ch)
{
    return ch <= ' ' || ch == 0x7f ||
           (ch < 0x80 && ch != '\'' && strchr("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~", ch));
}

/* Next word of *p into buf (lower-cased per opts, truncated to cap - 1 bytes); returns its
 * length, 0 at the end of the text. */
static size_t next_word(const char **p, bool lower, char *buf, size_t cap)
{
    const unsigned char *s = (const unsigned char *)*p;
    while (*s && is_separator(*s))
        s++;
    size_t n = 0;
    while (*s && !is_separator(*s)) {
        if (n + 1 < cap)
            buf[n++] = (char)(lower && *s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
        s++;
    }
    buf[n] = '\0';
    *p = (const char *)s;
    return n;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Slot of `w` in the hash table: its index in words, or the empty slot where it would go. */
static int64_t find_slot(const nb_tokenizer *t, const char *w)
{
    int64_t mask = t->n_slots - 1, i = (int64_t)(hash_str(w) & (uint64_t)mask);
    while (t->slots[i] >= 0 && strcmp(t->words[t->slots[i]].text, w) != 0)
        i = (i + 1) & mask;
    return i;
}

static const word *lookup(const nb_tokenizer *t, const char *w)
{
    if (!t->n_slots)
        return NULL;
    int64_t s = find_slot(t, w);
    return t->slots[s] >= 0 ? &t->words[t->slots[s]] : NULL;
}

static nb_status grow_table(nb_tokenizer *t)
{
    int64_t n = t->n_slots ? 2 * t->n_slots : 64;
    int64_t *slots = nb_malloc((size_t)n * sizeof *slots);
    if (!slots)
        return NB_ERR_NOMEM;
    for (int64_t i = 0; i < n; i++)
        slots[i] = -1;
    nb_free(t->slots);
    t->slots = slots;
    t->n_slots = n;
    for (int64_t k = 0; k < t->n_words; k++)
        t->slots[find_slot(t, t->words[k].text)] = k;
    return NB_OK;
}

/* Count one word; NB_ERR_NOMEM on failure (the counts stay consistent). */
static nb_status count_word(nb_tokenizer *t, const char *w, size_t len)
{
    if (2 * (t->n_words + 1) > t->n_slots && grow_table(t) != NB_OK)
        return NB_ERR_NOMEM;
    int64_t s = find_slot(t, w);
    if (t->slots[s] >= 0) {
        t->words[t->slots[s]].count++;
        return NB_OK;
    }
    if (t->n_words == t->cap_words) {
        int64_t cap = t->cap_words ? 2 * t->cap_words : 64;
        word *ws = nb_realloc(t->words, (size_t)cap * sizeof *ws);
        if (!ws)
            return NB_ERR_NOMEM;
        t->words = ws;
        t->cap_words = cap;
    }
    char *text = dup_str(w, len);
    if (!text)
        return NB_ERR_NOMEM;
    t->words[t->n_words] = (word){.text = text, .count = 1, .first = t->n_words, .id = 0};
    t->slots[s] = t->n_words++;
    return NB_OK;
}

static int by_count_then_first(const void *a, const void *b)
{
    const word *x = *(word *const *)a, *y = *(word *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static nb_status assign_ids(nb_tokenizer *t)
{
    const int64_t base = t->oov ? 2 : 1;
    int64_t *by_id = nb_malloc((size_t)(t->n_words + base) * sizeof *by_id);
    word **order = nb_malloc((size_t)(t->n_words ? t->n_words : 1) * sizeof *order);
    if (!by_id || !order) {
        nb_free(by_id);
        nb_free(order);
        return NB_ERR_NOMEM;
    }
    for (int64_t k = 0; k < t->n_words; k++)
        order[k] = &t->words[k];
    qsort(order, (size_t)t->n_words, sizeof *order, by_count_then_first);
    by_id[0] = -1;
    if (base == 2)
        by_id[1] = -1;
    for (int64_t k = 0; k < t->n_words; k++) {
        order[k]->id = base + k;
        by_id[base + k] = order[k] - t->words;
    }
    nb_free(order);
    nb_free(t->by_id);
    t->by_id = by_id;
    t->n_ids = t->n_words + base;
    return NB_OK;
}

nb_status nb_tokenizer_fit(nb_tokenizer *tok, int n, const char *const *texts)
{
    const char *fn = "nb_tokenizer_fit";
    if (!tok || n < 0 || (n > 0 && !texts))
        return nb_set_error(NB_ERR_VALUE, "%s: need a tokenizer and n >= 0 texts (n = %d)", fn, n);
    for (int i = 0; i < n; i++)
        if (!texts[i])
            return nb_set_error(NB_ERR_VALUE, "%s: texts[%d] is NULL", fn, i);
    for (int i = 0; i < n; i++) {
        const char *p = texts[i];
        size_t cap = strlen(p) + 1;
        char *buf = nb_malloc(cap);
        if (!buf)
            return nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        size_t len;
        nb_status st = NB_OK;
        while (st == NB_OK && (len = next_word(&p, tok->opts.lower, buf, cap)) > 0)
            st = count_word(tok, buf, len);
        nb_free(buf);
        if (st != NB_OK)
            return nb_set_error(st, "%s: out of memory counting words of text %d", fn, i);
    }
    if (assign_ids(tok) != NB_OK)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory assigning ids", fn);
    return NB_OK;
}

int64_t nb_tokenizer_vocab_size(const nb_tokenizer *tok)
{
    return tok ? tok->n_ids : 0;
}

int64_t nb_tokenizer_word_id(const nb_tokenizer *tok, const char *w)
{
    if (!tok || !w)
        return 0;
    if (tok->oov && strcmp(w, tok->oov) == 0)
        return 1;
    const word *e = lookup(tok, w);
    return e ? e->id : 0;
}

const char *nb_tokenizer_word(const nb_tokenizer *tok, int64_t id)
{
    if (!tok || id <= 0 || id >= tok->n_ids)
        return NULL;
    if (tok->oov && id == 1)
        return tok->oov;
    return tok->words[tok->by_id[id]].text;
}

int64_t nb_tokenizer_word_count(const nb_tokenizer *tok, int64_t id)
{
    if (!tok || id <= 0 || id >= tok->n_ids || (tok->oov && id == 1))
        return 0;
    return tok->words[tok->by_id[id]].count;
}

int64_t nb_tokenizer_encode(const nb_tokenizer *tok, const char *text, int64_t *ids, int64_t cap)
{
    if (!tok || !text || (cap > 0 && !ids) || cap < 0) {
        nb_set_error(NB_ERR_VALUE, "nb_tokenizer_encode: need a tokenizer, a text and room for "
                                   "cap >= 0 ids");
        return -1;
    }
    size_t bufcap = strlen(text) + 1;
    char small[256], *buf = bufcap <= sizeof small ? small : nb_malloc(bufcap);
    if (!buf) {
        nb_set_error(NB_ERR_NOMEM, "nb_tokenizer_encode: out of memory");
        return -1;
    }
    const int64_t limit = tok->opts.num_words;
    int64_t count = 0;
    const char *p = text;
    while (next_word(&p, tok->opts.lower, buf, bufcap) > 0) {
        const word *e = lookup(tok, buf);
        int64_t id = e ? e->id : 0;
        if (id && limit > 0 && id >= limit)
            id = 0;
        if (!id && tok->oov)
            id = 1;
        if (!id)
            continue;
        if (count < cap)
            ids[count] = id;
        count++;
    }
    if (buf != small)
        nb_free(buf);
    return count;
}

nb_tensor *nb_tokenizer_encode_padded(const nb_tokenizer *tok, int n, const char *const *texts,
                                      const nb_pad_opts *pad)
{
    const char *fn = "nb_tokenizer_encode_padded";
    if (!tok || n < 1 || !texts) {
        nb_set_error(NB_ERR_VALUE, "%s: need a tokenizer and n >= 1 texts (n = %d)", fn, n);
        return NULL;
    }
    int64_t *lens = nb_calloc((size_t)n, sizeof *lens);
    int64_t **seqs = nb_calloc((size_t)n, sizeof *seqs);
    nb_tensor *out = NULL;
    if (!lens || !seqs) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (!texts[i]) {
            nb_set_error(NB_ERR_VALUE, "%s: texts[%d] is NULL", fn, i);
            goto done;
        }
        lens[i] = nb_tokenizer_encode(tok, texts[i], NULL, 0);
        if (lens[i] < 0)
            goto done;
        if (lens[i] > 0 && !(seqs[i] = nb_malloc((size_t)lens[i] * sizeof **seqs))) {
            nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
            goto done;
        }
        nb_tokenizer_encode(tok, texts[i], seqs[i], lens[i]);
    }
    out = nb_pad_sequences(n, (const int64_t *const *)seqs, lens, pad);
done:
    for (int i = 0; seqs && i < n; i++)
        nb_free(seqs[i]);
    nb_free(seqs);
    nb_free(lens);
    return out;
}

size_t nb_tokenizer_decode(const nb_tokenizer *tok, const int64_t *ids, int64_t n, char *buf,
                           size_t size)
{
    size_t len = 0;
    if (size > 0)
        buf[0] = '\0';
    for (int64_t i = 0; tok && ids && i < n; i++) {
        if (ids[i] == 0)
            continue;
        const char *w = nb_tokenizer_word(tok, ids[i]);
        if (!w)
            w = "?";
        for (const char *s = len ? " " : ""; *s; s++, len++)
            if (len + 1 < size)
                buf[len] = *s, buf[len + 1] = '\0';
        for (; *w; w++, len++)
            if (len + 1 < size)
                buf[len] = *w, buf[len + 1] = '\0';
    }
    return len;
}

void nb_tokenizer_print_vocab(const nb_tokenizer *tok, FILE *out)
{
    if (!tok || !out)
        return;
    fputc('{', out);
    for (int64_t id = 1; id < tok->n_ids; id++)
        fprintf(out, "%s'%s': %lld", id > 1 ? ", " : "", nb_tokenizer_word(tok, id), (long long)id);
    fputs("}\n", out);
}

/* ======================================================================================
 * Character text
 * ====================================================================================== */

nb_status nb_char_text_from_bytes(const unsigned char *bytes, int64_t n, nb_char_text *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!bytes || !out || n < 1)
        return nb_set_error(NB_ERR_VALUE,
                            "nb_char_text_from_bytes: need bytes, out and n >= 1 "
                            "(n = %lld)",
                            (long long)n);
    out->ids = nb_tensor_new(NB_I64, NB_SHAPE(n));
    if (!out->ids)
        return nb_last_status();
    int64_t id_of[256];
    bool seen[256] = {false};
    for (int64_t i = 0; i < n; i++)
        seen[bytes[i]] = true;
    for (int ch = 0; ch < 256; ch++)
        if (seen[ch]) {
            id_of[ch] = out->vocab;
            out->chars[out->vocab++] = (unsigned char)ch;
        }
    int64_t *ids = nb_tensor_data_i64(out->ids);
    for (int64_t i = 0; i < n; i++)
        ids[i] = id_of[bytes[i]];
    out->n = n;
    return NB_OK;
}

nb_status nb_char_text_load(const char *path, int64_t min_len, nb_char_text *out)
{
    const char *fn = "nb_char_text_load";
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out || min_len < 1)
        return nb_set_error(NB_ERR_VALUE, "%s: need a path, out and min_len >= 1 (min_len = %lld)",
                            fn, (long long)min_len);
    unsigned char *data;
    size_t size;
    nb_status st = nbi_read_file(fn, path, &data, &size);
    if (st != NB_OK)
        return st;
    if ((uint64_t)size < (uint64_t)min_len)
        st = nb_set_error(NB_ERR_VALUE, "%s: %s has %zu bytes, fewer than the %lld needed", fn,
                          path, size, (long long)min_len);
    else
        st = nb_char_text_from_bytes(data, (int64_t)size, out);
    nb_free(data);
    return st;
}

void nb_char_text_deinit(nb_char_text *t)
{
    if (!t)
        return;
    nb_tensor_free(t->ids);
    memset(t, 0, sizeof *t);
}

nb_status nb_text_windows(const nb_tensor *ids, int64_t lo, int64_t hi, nb_rng *rng, nb_tensor *x,
                          nb_tensor *y)
{
    const char *fn = "nb_text_windows";
    if (!ids || !x || !y)
        return nb_set_error(NB_ERR_VALUE, "%s: ids, x and y must not be NULL", fn);
    if (nb_tensor_dtype(ids) != NB_I64 || nb_tensor_dtype(x) != NB_I64 ||
        nb_tensor_dtype(y) != NB_I64)
        return nb_set_error(NB_ERR_DTYPE, "%s: ids, x and y must be NB_I64", fn);
    if (nb_tensor_ndim(ids) != 1 || nb_tensor_ndim(x) != 2 || !nb_tensor_is_contiguous(ids) ||
        !nb_tensor_is_contiguous(x) || !nb_tensor_is_contiguous(y))
        return nb_set_error(NB_ERR_SHAPE, "%s: need contiguous ids [n] and x [B, T]", fn);
    const int64_t B = nb_tensor_dim(x, 0), T = nb_tensor_dim(x, 1), n = nb_tensor_dim(ids, 0);
    const bool y_ok = nb_tensor_ndim(y) == 2
                          ? nb_tensor_dim(y, 0) == B && nb_tensor_dim(y, 1) == T
                          : nb_tensor_ndim(y) == 1 && nb_tensor_dim(y, 0) == B * T;
    if (!y_ok)
        return nb_set_error(NB_ERR_SHAPE, "%s: y must be [%lld, %lld] or [%lld] like x", fn,
                            (long long)B, (long long)T, (long long)(B * T));
    const int64_t span = hi - lo - T - 1;
    if (lo < 0 || hi > n || span < 1)
        return nb_set_error(NB_ERR_VALUE,
                            "%s: the range [%lld, %lld) of %lld ids is too short for windows of "
                            "%lld (it needs more than T + 2 ids)",
                            fn, (long long)lo, (long long)hi, (long long)n, (long long)T);
    const int64_t *src = nb_tensor_data_i64((nb_tensor *)(uintptr_t)ids);
    int64_t *xd = nb_tensor_data_i64(x), *yd = nb_tensor_data_i64(y);
    for (int64_t b = 0; b < B; b++) {
        const int64_t s = lo + (rng ? (int64_t)nb_rng_below(rng, (uint64_t)span)
                                    : span * b / (B > 1 ? B - 1 : 1));
        memcpy(xd + b * T, src + s, (size_t)T * sizeof *xd);
        memcpy(yd + b * T, src + s + 1, (size_t)T * sizeof *yd);
    }
    return NB_OK;
}
