/*
 * text_sink.h: a growing text buffer for the chart writers' sink callback
 * (report/svg.h, report/plot.h), shared by their unit tests.
 */
#ifndef MW_TEST_TEXT_SINK_H
#define MW_TEST_TEXT_SINK_H

#include <stdlib.h>
#include <string.h>

typedef struct text_buf {
    char *data;
    size_t len, cap;
} text_buf;

/* An mw_svg_sink / mw_plot sink appending to the text_buf ud (kept
 * NUL-terminated); returns 1 when memory runs out. */
static int buf_sink(void *ud, const char *text, size_t len)
{
    text_buf *b = ud;
    if (b->len + len + 1 > b->cap) {
        size_t cap = (b->cap + len + 1) * 2;
        char *p = realloc(b->data, cap);
        if (p == NULL)
            return 1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

/* The occurrences of needle in hay (overlapping ones too). */
static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

#endif /* MW_TEST_TEXT_SINK_H */
