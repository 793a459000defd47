#ifndef NETLAB_STRUTIL_H
#define NETLAB_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Edit distance, capped: returns a value > cap as soon as it is exceeded. */
size_t str_distance(const char *a, const char *b, size_t cap);
/* The candidate nearest to word, or NULL when none is close enough to be a
 * plausible typo. */
const char *str_nearest(const char *word, const char *const *candidates, size_t n);
/* Copy with truncation check: 0 on success, -1 if src does not fit. */
int str_copy(char *dst, size_t size, const char *src);
bool str_has_prefix(const char *s, const char *prefix);
/* word is one of text's words (separated by spaces and newlines, as in
 * cgroup.controllers); text may be NULL. */
bool str_has_word(const char *text, const char *word);
/* Number of UTF-8 code points in the first len bytes of s. */
size_t utf8_width(const char *s, size_t len);
/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t avail);

#endif
