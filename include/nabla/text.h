/* nabla/text.h — text to token ids: a word tokenizer with a frequency-ordered vocabulary,
 * sequence padding and truncation, padding masks, padded source/target batches for
 * sequence-to-sequence models; a text as one id per byte with windows cut
 * from it for character language models.
 *
 *     const char *texts[] = {"Today is a sunny day", "Is it sunny today?"};
 *     nb_tokenizer *tok = nb_tokenizer_new(NULL);          (defaults: lower-case, no OOV token)
 *     nb_tokenizer_fit(tok, 2, texts);                      (today: 1, is: 2, sunny: 3, ...)
 *     nb_pad_opts pad = nb_pad_defaults();                  (pre-padding to the longest, id 0)
 *     nb_tensor *ids = nb_tokenizer_encode_padded(tok, 2, texts, &pad);   ([2, 5] NB_I64)
 *     ...
 *     nb_tensor_free(ids);
 *     nb_tokenizer_free(tok);
 *
 * Words. A text is split into words at whitespace and at ASCII punctuation
 * (!"#$%&()*+,-./:;<=>?@[\]^_`{|}~), which is dropped: "Is it sunny today?" gives "is", "it",
 * "sunny", "today". The apostrophe is part of a word ("don't"). ASCII letters are lower-cased
 * when opts.lower is set; other bytes (UTF-8 sequences) are kept as they are.
 *

 * Ids. Id 0 is reserved for padding. When an OOV token is configured it gets id 1. The words
 * seen by nb_tokenizer_fit follow, ordered by descending count, ties broken by first
 * appearance. This is the convention of Keras's Tokenizer, so vocabularies and padded matrices
 * match the ones shown in most course material. */
#ifndef NABLA_TEXT_H
#define NABLA_TEXT_H

#include <stdio.h>

#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================================
 * Padding and masks
 * ====================================================================================== */

typedef enum nb_pad_side {
    NB_PAD_PRE = 0, /* add padding / remove elements at the start of a sequence */
    NB_PAD_POST = 1 /* ... at the end */
} nb_pad_side;

typedef struct nb_pad_opts {
    int64_t maxlen;         /* length of every row; 0 = the longest sequence (default 0) */
    nb_pad_side padding;    /* where pad ids go (default NB_PAD_PRE) */
    nb_pad_side truncating; /* which end of a longer sequence is cut (default NB_PAD_PRE) */
    int64_t value;          /* the pad id (default 0) */
} nb_pad_opts;

/* {maxlen 0, NB_PAD_PRE, NB_PAD_PRE, value 0}. */
NB_API nb_pad_opts nb_pad_defaults(void);

/* Pad or truncate n sequences of ids (seqs[i] has lens[i] elements; seqs[i] may be NULL when
 * lens[i] is 0) into a caller-owned NB_I64 tensor [n, L], L = opts->maxlen or, when that is 0,
 * the longest lens[i] (at least 1). opts NULL = defaults. Errors -> NULL: NB_ERR_VALUE (n < 1,
 * NULL seqs/lens, negative length or maxlen, NULL sequence with a length), NB_ERR_NOMEM. */
NB_API nb_tensor *nb_pad_sequences(int n, const int64_t *const *seqs, const int64_t *lens,
                                   const nb_pad_opts *opts);

/* Mask of the positions that hold a token: float tensor of ids' shape and `dtype` (NB_F32 or
 * NB_F64), 1 where ids != pad_id and 0 where ids == pad_id. Use it to average a per-position
 * loss over real tokens only. Not recorded; placed like an op result (in the active step's
 * arena, caller-owned without a step). Errors -> NULL: NB_ERR_VALUE (ids NULL),
 * NB_ERR_DTYPE (ids not NB_I64 or dtype not float). */
NB_API nb_tensor *nb_padding_mask(nb_tensor *ids, int64_t pad_id, nb_dtype dtype);

/* Number of non-pad ids in each row of a padded [N, L] NB_I64 matrix, written to
 * lengths[0..N-1]. Errors: NB_ERR_VALUE (NULL), NB_ERR_DTYPE, NB_ERR_SHAPE (not 2-D). */
NB_API nb_status nb_sequence_lengths(nb_tensor *ids, int64_t pad_id, int64_t *lengths);

/* ======================================================================================
 * Sequence-to-sequence batches
 * ====================================================================================== */

/* A padded batch of (source, target) pairs for an encoder-decoder trained with teacher forcing:
 * PyTorch's pad_sequence of both sides, with the target shifted right behind a start id for the
 * decoder's inputs. Batch-first; every tensor is caller-owned (nb_seq2seq_batch_deinit):
 *   src    [n, S] NB_I64  source i's ids, 0 after its end (S: the longest source);
 *   pad    [n, S] NB_F32  1 at those padded positions, 0 at ids (a mask for nb_masked_fill);
 *   dec_in [n, T] NB_I64  bos, then target i's ids, 0 after (T: the longest target + 1);
 *   tgt    [n, T] NB_I64  target i's ids, then eos, 0 after: what each decoder step should give;
 *   valid  [n, T] NB_F32  1 at the target's ids and its eos, 0 after (weights of the loss). */
typedef struct nb_seq2seq_batch {
    int64_t n, S, T;
    int64_t *lens; /* [n] source lengths, as nb_rnn_forward_ex takes them */
    nb_tensor *src, *pad, *dec_in, *tgt, *valid;
} nb_seq2seq_batch;

/* Make *b from n pairs stored row-major, `stride` ids per row: source i is src[i * stride ...]
 * with src_lens[i] ids (1 to stride), target i is tgt[i * stride ...] with tgt_lens[i] ids (0
 * to stride). *b must be zeroed or a batch made before, which is freed first. On error *b is
 * zeroed. Errors: NB_ERR_VALUE (NULL argument, n < 1, stride < 1, a length out of range, naming
 * the pair), NB_ERR_NOMEM. */
NB_API nb_status nb_seq2seq_batch_make(nb_seq2seq_batch *b, int64_t n, int64_t stride,
                                       const int64_t *src, const int64_t *src_lens,
                                       const int64_t *tgt, const int64_t *tgt_lens, int64_t bos,
                                       int64_t eos);
/* Free the tensors and lengths and zero the struct; NULL and zeroed structs are fine. */
NB_API void nb_seq2seq_batch_deinit(nb_seq2seq_batch *b);

/* ======================================================================================
 * Word tokenizer
 * ====================================================================================== */

typedef struct nb_tokenizer nb_tokenizer;

typedef struct nb_tokenizer_opts {
    /* When > 0, encoding keeps only ids < num_words (the num_words - 1 most frequent entries,
     * the OOV token included); other words become the OOV id, or are dropped without one. The
     * vocabulary itself keeps every word. Default 0 (no limit). */
    int64_t num_words;
    /* Token for out-of-vocabulary words (copied), given id 1; NULL = unknown words are dropped
     * when encoding. Default NULL. */
    const char *oov_token;
    bool lower; /* lower-case ASCII letters (default true) */
} nb_tokenizer_opts;

/* {num_words 0, oov_token NULL, lower true}. */
NB_API nb_tokenizer_opts nb_tokenizer_defaults(void);

/* New empty tokenizer (caller-owned; nb_tokenizer_free). opts NULL = defaults.
 * Errors -> NULL: NB_ERR_VALUE (negative num_words, empty oov_token), NB_ERR_NOMEM. */
NB_API nb_tokenizer *nb_tokenizer_new(const nb_tokenizer_opts *opts);
/* Free the tokenizer and its vocabulary. NULL is a no-op. */
NB_API void nb_tokenizer_free(nb_tokenizer *tok);

/* Count the words of n texts and rebuild the ids (see the top of this file). Calling it again
 * adds to the counts, so ids may change. NULL entries of texts are NB_ERR_VALUE (nothing is
 * counted then). On NB_ERR_NOMEM the counts may include part of the texts and the ids stay
 * those of the previous fit. */
NB_API nb_status nb_tokenizer_fit(nb_tokenizer *tok, int n, const char *const *texts);

/* Number of ids in use including 0: the largest id + 1 (1 for an empty vocabulary without an
 * OOV token). Size an embedding table with it. 0 for NULL. */
NB_API int64_t nb_tokenizer_vocab_size(const nb_tokenizer *tok);
/* Id of `word` as stored (already lower-cased words; lookup is exact), or 0 when it is not in
 * the vocabulary. The OOV token has id 1 when configured. */
NB_API int64_t nb_tokenizer_word_id(const nb_tokenizer *tok, const char *word);
/* The word (or OOV token) with `id`, owned by the tokenizer (valid until the next fit or
 * free); NULL for 0, out-of-range ids or NULL tok. */
NB_API const char *nb_tokenizer_word(const nb_tokenizer *tok, int64_t id);
/* How often the word with `id` was seen by nb_tokenizer_fit (0 for the OOV token). */
NB_API int64_t nb_tokenizer_word_count(const nb_tokenizer *tok, int64_t id);

/* Ids of the words of `text` (see num_words and oov_token for unknown words). Writes at most
 * cap ids to ids (ids may be NULL when cap is 0) and returns the number of ids of the whole
 * text, so a call with cap 0 sizes the buffer. -1 on error: NB_ERR_VALUE (NULL tok or text,
 * NULL ids with cap > 0). */
NB_API int64_t nb_tokenizer_encode(const nb_tokenizer *tok, const char *text, int64_t *ids,
                                   int64_t cap);
/* Encode n texts and pad them with nb_pad_sequences: a caller-owned NB_I64 tensor [n, L].
 * pad NULL = nb_pad_defaults(). Errors -> NULL, as nb_tokenizer_encode and nb_pad_sequences. */
NB_API nb_tensor *nb_tokenizer_encode_padded(const nb_tokenizer *tok, int n,
                                             const char *const *texts, const nb_pad_opts *pad);
/* Words of n ids joined by single spaces into buf (always NUL-terminated when size > 0); pad
 * id 0 is skipped, unknown ids are written as "?". Returns the length the full text needs
 * (excluding the NUL), like snprintf. */
NB_API size_t nb_tokenizer_decode(const nb_tokenizer *tok, const int64_t *ids, int64_t n, char *buf,
                                  size_t size);
/* Print the vocabulary as {'today': 1, 'is': 2, ...} in id order, followed by a newline. */
NB_API void nb_tokenizer_print_vocab(const nb_tokenizer *tok, FILE *out);

/* ======================================================================================
 * Character text (byte-level language models)
 *
 *     nb_char_text text;
 *     if (nb_char_text_load("input.txt", 1024, &text) != NB_OK) ...   (ids [n], vocab, chars)
 *     nb_text_windows(text.ids, 0, text.n * 9 / 10, &rng, x, y);       (a batch of windows)
 *     ...
 *     nb_char_text_deinit(&text);
 * ====================================================================================== */

/* A text as one id per byte. The vocabulary is the set of bytes that occur, in ascending byte
 * order: chars[id] is the byte of id, and ids run from 0 to vocab - 1. */
typedef struct nb_char_text {
    nb_tensor *ids;           /* NB_I64 [n], owned by the struct (nb_char_text_deinit) */
    int64_t n;                /* bytes of the text */
    int vocab;                /* distinct bytes, 1..256 */
    unsigned char chars[256]; /* chars[id] for id < vocab */
} nb_char_text;

/* Read the file at path (a regular file) as an nb_char_text. min_len: the fewest bytes accepted
 * (>= 1). On error *out is zeroed. Errors: NB_ERR_VALUE (NULL argument, min_len < 1, a text
 * shorter than min_len, naming its length), NB_ERR_IO (cannot open or read, with the path),
 * NB_ERR_NOMEM. */
NB_API nb_status nb_char_text_load(const char *path, int64_t min_len, nb_char_text *out);
/* The same from n bytes in memory (n >= 1). Errors: NB_ERR_VALUE (NULL, n < 1), NB_ERR_NOMEM. */
NB_API nb_status nb_char_text_from_bytes(const unsigned char *bytes, int64_t n, nb_char_text *out);
/* Free the ids and zero the struct; NULL and zeroed structs are fine. */
NB_API void nb_char_text_deinit(nb_char_text *t);

/* A batch for next-token prediction: B windows of T ids from ids[lo, hi) into x [B, T] and the
 * ids that follow each into y ([B, T] or [B * T]): y[b, t] = ids[s_b + t + 1] where x[b, t] =
 * ids[s_b + t]. With rng the starts s_b are drawn uniformly from [lo, lo + span) (span = hi - lo
 * - T - 1), one nb_rng_below each; with rng NULL they are evenly spaced, s_b = lo + span * b /
 * (B - 1) (a fixed validation batch). ids: NB_I64 [n] contiguous; x, y: contiguous NB_I64,
 * caller-owned, written in place. Errors: NB_ERR_VALUE (NULL, lo < 0, hi > n, span < 1, naming
 * the range and T), NB_ERR_DTYPE (not NB_I64), NB_ERR_SHAPE (ids not 1-D, x not 2-D, y not
 * [B, T] or [B * T], one of them not contiguous). */
NB_API nb_status nb_text_windows(const nb_tensor *ids, int64_t lo, int64_t hi, nb_rng *rng,
                                 nb_tensor *x, nb_tensor *y);

#ifdef __cplusplus
}
#endif
#endif
