/* tests/data/test_text.c — the word tokenizer, sequence padding and masks (data/text.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"

static const char *const course[4] = {"Today is a sunny day", "Today is a rainy day",
                                      "Is it sunny today?",
                                      "I really enjoyed walking in the snow today"};

static void assert_row(nb_tensor *t, int64_t row, const int64_t *want, int64_t n)
{
    assert_int_equal(nb_tensor_dim(t, 1), n);
    for (int64_t j = 0; j < n; j++)
        assert_int_equal((int64_t)nb_tensor_get(t, row * n + j), want[j]);
}

static void test_tokenizer_builds_the_course_vocabulary(void **state)
{
    (void)state;
    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    assert_non_null(tok);
    assert_int_equal(nb_tokenizer_fit(tok, 4, course), NB_OK);
    /* descending count (today 4, is 3, a/sunny/day 2), ties by first appearance */
    const char *want[] = {"today", "is",     "a",       "sunny",   "day", "rainy", "it",
                          "i",     "really", "enjoyed", "walking", "in",  "the",   "snow"};
    assert_int_equal(nb_tokenizer_vocab_size(tok), 15);
    for (int64_t id = 1; id <= 14; id++) {
        assert_string_equal(nb_tokenizer_word(tok, id), want[id - 1]);
        assert_int_equal(nb_tokenizer_word_id(tok, want[id - 1]), id);
    }
    assert_int_equal(nb_tokenizer_word_count(tok, 1), 4);
    assert_int_equal(nb_tokenizer_word_count(tok, 2), 3);
    assert_int_equal(nb_tokenizer_word_id(tok, "today?"), 0);
    assert_null(nb_tokenizer_word(tok, 0));
    assert_null(nb_tokenizer_word(tok, 15));
    nb_tokenizer_free(tok);
}

static void test_tokenizer_pads_the_course_sentences_before_by_default(void **state)
{
    (void)state;
    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    assert_int_equal(nb_tokenizer_fit(tok, 4, course), NB_OK);
    nb_tensor *ids = nb_tokenizer_encode_padded(tok, 4, course, NULL);
    assert_non_null(ids);
    assert_int_equal(nb_tensor_dtype(ids), NB_I64);
    assert_int_equal(nb_tensor_dim(ids, 0), 4);
    const int64_t r0[] = {0, 0, 0, 1, 2, 3, 4, 5}, r1[] = {0, 0, 0, 1, 2, 3, 6, 5};
    const int64_t r2[] = {0, 0, 0, 0, 2, 7, 4, 1}, r3[] = {8, 9, 10, 11, 12, 13, 14, 1};
    assert_row(ids, 0, r0, 8);
    assert_row(ids, 1, r1, 8);
    assert_row(ids, 2, r2, 8);
    assert_row(ids, 3, r3, 8);
    nb_tensor_free(ids);
    nb_tokenizer_free(tok);
}

static void test_tokenizer_pads_and_truncates_after_to_maxlen(void **state)
{
    (void)state;
    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    assert_int_equal(nb_tokenizer_fit(tok, 4, course), NB_OK);
    nb_pad_opts pad = {.maxlen = 5, .padding = NB_PAD_POST, .truncating = NB_PAD_POST};
    nb_tensor *ids = nb_tokenizer_encode_padded(tok, 4, course, &pad);
    const int64_t r2[] = {2, 7, 4, 1, 0}, r3[] = {8, 9, 10, 11, 12};
    assert_row(ids, 2, r2, 5);
    assert_row(ids, 3, r3, 5);
    nb_tensor_free(ids);
    nb_tokenizer_free(tok);
}

static void test_tokenizer_maps_unknown_words_to_the_oov_id(void **state)
{
    (void)state;
    nb_tokenizer_opts o = nb_tokenizer_defaults();
    o.oov_token = "<OOV>";
    nb_tokenizer *tok = nb_tokenizer_new(&o);
    assert_int_equal(nb_tokenizer_fit(tok, 4, course), NB_OK);
    assert_int_equal(nb_tokenizer_word_id(tok, "<OOV>"), 1);
    assert_int_equal(nb_tokenizer_word_id(tok, "today"), 2);
    assert_int_equal(nb_tokenizer_vocab_size(tok), 16);
    int64_t ids[8];
    assert_int_equal(nb_tokenizer_encode(tok, "My dog is SUNNY", ids, 8), 4);
    const int64_t want[] = {1, 1, 3, 5};
    assert_memory_equal(ids, want, sizeof want);
    nb_tokenizer_free(tok);
}

static void test_tokenizer_drops_unknown_words_without_oov(void **state)
{
    (void)state;
    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    assert_int_equal(nb_tokenizer_fit(tok, 4, course), NB_OK);
    int64_t ids[4];
    assert_int_equal(nb_tokenizer_encode(tok, "my dog is sunny", ids, 4), 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 4);
    nb_tokenizer_free(tok);
}

static void test_tokenizer_num_words_keeps_only_the_most_frequent(void **state)
{
    (void)state;
    nb_tokenizer_opts o = nb_tokenizer_defaults();
    o.num_words = 3; /* ids 1 and 2: today, is */
    nb_tokenizer *tok = nb_tokenizer_new(&o);
    assert_int_equal(nb_tokenizer_fit(tok, 4, course), NB_OK);
    assert_int_equal(nb_tokenizer_vocab_size(tok), 15); /* the vocabulary keeps every word */
    int64_t ids[8];
    assert_int_equal(nb_tokenizer_encode(tok, course[0], ids, 8), 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    nb_tokenizer_free(tok);
}

static void test_tokenizer_splits_at_punctuation_and_keeps_apostrophes(void **state)
{
    (void)state;
    const char *texts[] = {"Hello,world! don't STOP-me\tnow..."};
    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    assert_int_equal(nb_tokenizer_fit(tok, 1, texts), NB_OK);
    const char *want[] = {"hello", "world", "don't", "stop", "me", "now"};
    assert_int_equal(nb_tokenizer_vocab_size(tok), 7);
    for (int i = 0; i < 6; i++)
        assert_string_equal(nb_tokenizer_word(tok, i + 1), want[i]);
    nb_tokenizer_free(tok);
}

static void test_tokenizer_keeps_case_when_asked(void **state)
{
    (void)state;
    nb_tokenizer_opts o = nb_tokenizer_defaults();
    o.lower = false;
    const char *texts[] = {"Today today"};
    nb_tokenizer *tok = nb_tokenizer_new(&o);
    assert_int_equal(nb_tokenizer_fit(tok, 1, texts), NB_OK);
    assert_int_equal(nb_tokenizer_vocab_size(tok), 3);
    assert_int_equal(nb_tokenizer_word_id(tok, "Today"), 1);
    nb_tokenizer_free(tok);
}

static void test_tokenizer_fit_accumulates_counts(void **state)
{
    (void)state;
    const char *a[] = {"cat dog"}, *b[] = {"dog dog"};
    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    assert_int_equal(nb_tokenizer_fit(tok, 1, a), NB_OK);
    assert_int_equal(nb_tokenizer_word_id(tok, "cat"), 1);
    assert_int_equal(nb_tokenizer_fit(tok, 1, b), NB_OK);
    assert_int_equal(nb_tokenizer_word_id(tok, "dog"), 1);
    assert_int_equal(nb_tokenizer_word_count(tok, 1), 3);
    nb_tokenizer_free(tok);
}

static void test_tokenizer_handles_many_words(void **state)
{
    (void)state;
    /* 3000 distinct words (the hash table grows several times); word k appears k % 7 + 1 times. */
    char *text = malloc(3000 * 7 * 12);
    size_t len = 0;
    for (int k = 0; k < 3000; k++)
        for (int r = 0; r <= k % 7; r++)
            len += (size_t)sprintf(text + len, "w%d ", k);
    const char *texts[] = {text};
    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    assert_int_equal(nb_tokenizer_fit(tok, 1, texts), NB_OK);
    assert_int_equal(nb_tokenizer_vocab_size(tok), 3001);
    assert_int_equal(nb_tokenizer_word_id(tok, "w6"), 1); /* first word seen 7 times */
    assert_int_equal(nb_tokenizer_word_count(tok, nb_tokenizer_word_id(tok, "w2999")),
                     2999 % 7 + 1);
    for (int64_t id = 2; id < 3001; id++)
        assert_true(nb_tokenizer_word_count(tok, id - 1) >= nb_tokenizer_word_count(tok, id));
    nb_tokenizer_free(tok);
    free(text);
}

static void test_tokenizer_decodes_ids_to_words(void **state)
{
    (void)state;
    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    assert_int_equal(nb_tokenizer_fit(tok, 4, course), NB_OK);
    const int64_t ids[] = {0, 0, 2, 7, 4, 1, 99};
    char buf[64];
    size_t n = nb_tokenizer_decode(tok, ids, 7, buf, sizeof buf);
    assert_string_equal(buf, "is it sunny today ?");
    assert_int_equal(n, strlen("is it sunny today ?"));
    char small[6];
    assert_int_equal(nb_tokenizer_decode(tok, ids, 7, small, sizeof small), n);
    assert_string_equal(small, "is it");
    nb_tokenizer_free(tok);
}

static void test_tokenizer_rejects_bad_arguments(void **state)
{
    (void)state;
    nb_tokenizer_opts o = nb_tokenizer_defaults();
    o.num_words = -1;
    assert_null(nb_tokenizer_new(&o));
    nbt_assert_error(NB_ERR_VALUE, "nb_tokenizer_new: num_words must be >= 0");
    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    const char *texts[] = {"fine", NULL};
    assert_int_equal(nb_tokenizer_fit(tok, 2, texts), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_tokenizer_fit: texts[1] is NULL");
    assert_int_equal(nb_tokenizer_vocab_size(tok), 1); /* nothing was counted */
    assert_int_equal(nb_tokenizer_encode(tok, NULL, NULL, 0), -1);
    nbt_assert_error(NB_ERR_VALUE, "nb_tokenizer_encode");
    nb_tokenizer_free(tok);
}

static void test_tokenizer_reports_out_of_memory(void **state)
{
    (void)state;
    /* Fail each allocation of a fit in turn: every failure is reported, nothing leaks. */
    for (long k = 1; k < 40; k++) {
        nb_tokenizer *tok = nb_tokenizer_new(NULL);
        assert_non_null(tok);
        nb_debug_fail_alloc_after(k);
        nb_status st = nb_tokenizer_fit(tok, 4, course);
        nb_debug_fail_alloc_after(0);
        if (st != NB_OK)
            nbt_assert_error(NB_ERR_NOMEM, "nb_tokenizer_fit: out of memory");
        nb_tokenizer_free(tok);
    }
}

static void test_pad_sequences_pre_and_post(void **state)
{
    (void)state;
    const int64_t a[] = {1, 2, 3, 4}, b[] = {5};
    const int64_t *seqs[] = {a, b, NULL}, lens[] = {4, 1, 0};
    nb_pad_opts o = nb_pad_defaults();
    o.maxlen = 3;
    o.value = -1;
    nb_tensor *t = nb_pad_sequences(3, seqs, lens, &o); /* pre / pre */
    const int64_t w0[] = {2, 3, 4}, w1[] = {-1, -1, 5}, w2[] = {-1, -1, -1};
    assert_row(t, 0, w0, 3);
    assert_row(t, 1, w1, 3);
    assert_row(t, 2, w2, 3);
    nb_tensor_free(t);
    o.padding = NB_PAD_POST;
    o.truncating = NB_PAD_POST;
    t = nb_pad_sequences(3, seqs, lens, &o);
    const int64_t v0[] = {1, 2, 3}, v1[] = {5, -1, -1};
    assert_row(t, 0, v0, 3);
    assert_row(t, 1, v1, 3);
    nb_tensor_free(t);
    t = nb_pad_sequences(3, seqs, lens, NULL); /* longest: 4 */
    const int64_t u1[] = {0, 0, 0, 5};
    assert_row(t, 1, u1, 4);
    nb_tensor_free(t);
}

static void test_pad_sequences_rejects_bad_lengths(void **state)
{
    (void)state;
    const int64_t a[] = {1};
    const int64_t *seqs[] = {a, NULL}, bad[] = {1, 2}, neg[] = {-1, 0};
    assert_null(nb_pad_sequences(2, seqs, bad, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_pad_sequences: sequence 1: length 2 but no data");
    assert_null(nb_pad_sequences(2, seqs, neg, NULL));
    nbt_assert_error(NB_ERR_VALUE, "sequence 0: length -1 is negative");
    nb_pad_opts o = {.maxlen = -3};
    assert_null(nb_pad_sequences(1, seqs, bad, &o));
    nbt_assert_error(NB_ERR_VALUE, "maxlen must be >= 0");
}

static void test_padding_mask_and_lengths(void **state)
{
    (void)state;
    const int64_t d[] = {0, 3, 4, 0, 0, 7};
    nb_tensor *ids = nb_tensor_from_data(NB_I64, 2, (int64_t[]){2, 3}, d);
    nb_tensor *m = nb_padding_mask(ids, 0, NB_F32);
    assert_non_null(m);
    assert_int_equal(nb_tensor_dtype(m), NB_F32);
    for (int i = 0; i < 6; i++)
        assert_float_equal(nb_tensor_get(m, i), d[i] != 0, 0);
    int64_t lens[2];
    assert_int_equal(nb_sequence_lengths(ids, 0, lens), NB_OK);
    assert_int_equal(lens[0], 2);
    assert_int_equal(lens[1], 1);
    assert_null(nb_padding_mask(m, 0, NB_F32));
    nbt_assert_error(NB_ERR_DTYPE, "nb_padding_mask: ids must be i64");
    nb_tensor_free(m);
    nb_tensor_free(ids);
}

static void test_padding_mask_lives_in_the_active_step(void **state)
{
    (void)state;
    nb_tensor *ids = nb_tensor_zeros(NB_I64, 1, (int64_t[]){4});
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    size_t before = nb_step_arena_bytes(step);
    nb_tensor *m = nb_padding_mask(ids, 1, NB_F64);
    assert_non_null(m);
    assert_float_equal(nb_tensor_get(m, 3), 1.0, 0);
    assert_true(nb_step_arena_bytes(step) >= before);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(ids);
}

static void test_seq2seq_batch_pads_sources_and_shifts_targets(void **state)
{
    (void)state;
    /* two pairs, 4 ids per row: (1 2 3 -> 3 2 1) and (4 -> 4 4) */
    const int64_t src[] = {1, 2, 3, 9, 4, 9, 9, 9}, tgt[] = {3, 2, 1, 9, 4, 4, 9, 9};
    const int64_t src_lens[] = {3, 1}, tgt_lens[] = {3, 2};
    nb_seq2seq_batch b = {0};
    assert_int_equal(nb_seq2seq_batch_make(&b, 2, 4, src, src_lens, tgt, tgt_lens, 10, 11), NB_OK);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.S, 3);
    assert_int_equal(b.T, 4);
    assert_int_equal(b.lens[0], 3);
    assert_int_equal(b.lens[1], 1);
    const int64_t s0[] = {1, 2, 3}, s1[] = {4, 0, 0};
    assert_row(b.src, 0, s0, 3);
    assert_row(b.src, 1, s1, 3);
    const int64_t d0[] = {10, 3, 2, 1}, d1[] = {10, 4, 4, 0};
    assert_row(b.dec_in, 0, d0, 4);
    assert_row(b.dec_in, 1, d1, 4);
    const int64_t y0[] = {3, 2, 1, 11}, y1[] = {4, 4, 11, 0};
    assert_row(b.tgt, 0, y0, 4);
    assert_row(b.tgt, 1, y1, 4);
    const float pad[] = {0, 0, 0, 0, 1, 1}, valid[] = {1, 1, 1, 1, 1, 1, 1, 0};
    assert_int_equal(nb_tensor_dtype(b.pad), NB_F32);
    for (int i = 0; i < 6; i++)
        assert_float_equal(nb_tensor_data_f32(b.pad)[i], pad[i], 0);
    for (int i = 0; i < 8; i++)
        assert_float_equal(nb_tensor_data_f32(b.valid)[i], valid[i], 0);
    /* a second batch replaces the first (sizes follow the new longest pair) */
    const int64_t one[] = {1};
    assert_int_equal(nb_seq2seq_batch_make(&b, 1, 4, src, one, tgt, one, 10, 11), NB_OK);
    assert_int_equal(b.S, 1);
    assert_int_equal(b.T, 2);
    const int64_t y[] = {3, 11};
    assert_row(b.tgt, 0, y, 2);
    nb_seq2seq_batch_deinit(&b);
    assert_null(b.src);
    nb_seq2seq_batch_deinit(&b); /* zeroed: fine */
    nb_seq2seq_batch_deinit(NULL);
}

static void test_seq2seq_batch_rejects_bad_pairs(void **state)
{
    (void)state;
    const int64_t ids[] = {1, 2, 3, 4}, ok[] = {2, 1}, empty[] = {2, 0}, long_[] = {2, 5};
    nb_seq2seq_batch b = {0};
    assert_int_equal(nb_seq2seq_batch_make(&b, 2, 2, ids, empty, ids, ok, 0, 1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_seq2seq_batch_make: pair 1: source length 0 (need 1 to 2)");
    assert_int_equal(nb_seq2seq_batch_make(&b, 2, 2, ids, ok, ids, long_, 0, 1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "target length 5 (need 0 to 2)");
    assert_int_equal(nb_seq2seq_batch_make(&b, 0, 2, ids, ok, ids, ok, 0, 1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "n >= 1");
    assert_int_equal(nb_seq2seq_batch_make(&b, 2, 2, NULL, ok, ids, ok, 0, 1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "need a batch, ids and lengths");
    assert_int_equal(nb_seq2seq_batch_make(NULL, 2, 2, ids, ok, ids, ok, 0, 1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "need a batch");
    assert_null(b.src);
    assert_null(b.lens);
    /* each failing allocation is reported and leaves the batch zeroed (ASan: nothing leaks) */
    for (long k = 1; k < 10; k++) {
        nb_debug_fail_alloc_after(k);
        nb_status st = nb_seq2seq_batch_make(&b, 2, 2, ids, ok, ids, ok, 0, 1);
        nb_debug_fail_alloc_after(0);
        if (st != NB_OK) {
            nbt_assert_error(NB_ERR_NOMEM, "out of memory");
            assert_null(b.src);
        }
        nb_seq2seq_batch_deinit(&b);
    }
}

static void test_char_text_sorts_the_bytes_into_a_vocabulary(void **state)
{
    (void)state;
    nb_char_text t;
    assert_int_equal(nb_char_text_from_bytes((const unsigned char *)"hello world", 11, &t), NB_OK);
    assert_int_equal(t.n, 11);
    assert_int_equal(t.vocab, 8); /* ' ' d e h l o r w */
    assert_memory_equal(t.chars, " dehlorw", 8);
    const int64_t want[11] = {3, 2, 4, 4, 5, 0, 7, 5, 6, 4, 1};
    for (int i = 0; i < 11; i++)
        assert_int_equal((int64_t)nb_tensor_get(t.ids, i), want[i]);
    nb_char_text_deinit(&t);
    assert_null(t.ids);
    nb_char_text_deinit(NULL);
}

static void test_char_text_load_reads_a_file_and_checks_its_length(void **state)
{
    (void)state;
    const char *path = nbt_tmp_path("chars");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("abcabcab\n", f);
    fclose(f);
    nb_char_text t;
    assert_int_equal(nb_char_text_load(path, 9, &t), NB_OK);
    assert_int_equal(t.n, 9);
    assert_int_equal(t.vocab, 4);
    assert_int_equal(t.chars[0], '\n');
    assert_int_equal((int64_t)nb_tensor_get(t.ids, 8), 0);
    nb_char_text_deinit(&t);
    assert_int_equal(nb_char_text_load(path, 10, &t), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "has 9 bytes, fewer than the 10 needed"));
    assert_null(t.ids);
    nb_clear_error();
    remove(path);
    assert_int_equal(nb_char_text_load(path, 1, &t), NB_ERR_IO);
    assert_non_null(strstr(nb_last_error(), path));
    nb_clear_error();
    assert_int_equal(nb_char_text_load(NULL, 1, &t), NB_ERR_VALUE);
    nb_clear_error();
    assert_int_equal(nb_char_text_from_bytes((const unsigned char *)"a", 0, &t), NB_ERR_VALUE);
    nb_clear_error();
}

static void test_text_windows_cut_inputs_and_their_successors(void **state)
{
    (void)state;
    nb_tensor *ids = nb_arange(NB_I64, 0, 20, 1); /* id i at position i */
    nb_tensor *x = nb_tensor_new(NB_I64, NB_SHAPE(3, 4)), *y = nb_tensor_new(NB_I64, NB_SHAPE(12));
    /* fixed: span = 20 - 10 - 4 - 1 = 5, starts 10, 12, 15 */
    assert_int_equal(nb_text_windows(ids, 10, 20, NULL, x, y), NB_OK);
    const int64_t starts[3] = {10, 12, 15};
    for (int b = 0; b < 3; b++)
        for (int t = 0; t < 4; t++) {
            assert_int_equal((int64_t)nb_tensor_get(x, b * 4 + t), starts[b] + t);
            assert_int_equal((int64_t)nb_tensor_get(y, b * 4 + t), starts[b] + t + 1);
        }
    /* random: every window inside [0, 10) with its successor, the rng advanced once per row */
    nb_rng rng = nb_rng_seed(3), copy = nb_rng_seed(3);
    assert_int_equal(nb_text_windows(ids, 0, 10, &rng, x, y), NB_OK);
    for (int b = 0; b < 3; b++) {
        const int64_t s = (int64_t)nb_rng_below(&copy, 5);
        assert_int_equal((int64_t)nb_tensor_get(x, b * 4), s);
        assert_int_equal((int64_t)nb_tensor_get(y, b * 4 + 3), s + 4);
    }
    /* errors: a range too short, y of the wrong size, a float tensor */
    assert_int_equal(nb_text_windows(ids, 0, 5, &rng, x, y), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "too short for windows of 4"));
    nb_clear_error();
    nb_tensor *y_bad = nb_tensor_new(NB_I64, NB_SHAPE(11));
    assert_int_equal(nb_text_windows(ids, 0, 20, NULL, x, y_bad), NB_ERR_SHAPE);
    nb_clear_error();
    nb_tensor *xf = nb_tensor_zeros(NB_F32, NB_SHAPE(3, 4));
    assert_int_equal(nb_text_windows(ids, 0, 20, NULL, xf, y), NB_ERR_DTYPE);
    nb_clear_error();
    assert_int_equal(nb_text_windows(NULL, 0, 20, NULL, x, y), NB_ERR_VALUE);
    nb_clear_error();
    nb_tensor_free(ids), nb_tensor_free(x), nb_tensor_free(y), nb_tensor_free(y_bad);
    nb_tensor_free(xf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer_builds_the_course_vocabulary),
        cmocka_unit_test(test_tokenizer_pads_the_course_sentences_before_by_default),
        cmocka_unit_test(test_tokenizer_pads_and_truncates_after_to_maxlen),
        cmocka_unit_test(test_tokenizer_maps_unknown_words_to_the_oov_id),
        cmocka_unit_test(test_tokenizer_drops_unknown_words_without_oov),
        cmocka_unit_test(test_tokenizer_num_words_keeps_only_the_most_frequent),
        cmocka_unit_test(test_tokenizer_splits_at_punctuation_and_keeps_apostrophes),
        cmocka_unit_test(test_tokenizer_keeps_case_when_asked),
        cmocka_unit_test(test_tokenizer_fit_accumulates_counts),
        cmocka_unit_test(test_tokenizer_handles_many_words),
        cmocka_unit_test(test_tokenizer_decodes_ids_to_words),
        cmocka_unit_test(test_tokenizer_rejects_bad_arguments),
        cmocka_unit_test(test_tokenizer_reports_out_of_memory),
        cmocka_unit_test(test_pad_sequences_pre_and_post),
        cmocka_unit_test(test_pad_sequences_rejects_bad_lengths),
        cmocka_unit_test(test_padding_mask_and_lengths),
        cmocka_unit_test(test_padding_mask_lives_in_the_active_step),
        cmocka_unit_test(test_seq2seq_batch_pads_sources_and_shifts_targets),
        cmocka_unit_test(test_seq2seq_batch_rejects_bad_pairs),
        cmocka_unit_test(test_char_text_sorts_the_bytes_into_a_vocabulary),
        cmocka_unit_test(test_char_text_load_reads_a_file_and_checks_its_length),
        cmocka_unit_test(test_text_windows_cut_inputs_and_their_successors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
