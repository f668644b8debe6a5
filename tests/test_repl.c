/*
 * test_repl.c: the interactive prompt, driven through a pseudo-terminal.
 *
 *   test_repl <moonwatch> <edit|plain>
 *
 * Each test starts the real binary with forkpty (HOME a fresh temporary
 * directory, TERM=xterm), types keystrokes with short pauses as a person
 * would, and waits for what must appear in the output, expect-style, each
 * wait bounded by a timeout so that a broken prompt fails rather than
 * hangs. "plain" says the binary was built without libedit: the tests of
 * completion and history are then skipped.
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* How long one expected text may take to appear, and the pause after each
 * keystroke group (libedit reads keys one by one, as typed). */
#define EXPECT_TIMEOUT_MS 5000
#define KEY_PAUSE_MS 40
#define TRANSCRIPT_MAX (1 << 18)

static const char *moonwatch_path;
static int has_line_editing;

typedef struct session {
    pid_t pid;
    int fd;
    char home[64];
    char out[TRANSCRIPT_MAX];
    size_t len;  /* bytes of output so far */
    size_t mark; /* output before this was matched already */
} session;

static void pause_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Starts moonwatch in s, with HOME = s->home. */
static void session_start(session *s)
{
    s->len = 0;
    s->mark = 0;
    s->out[0] = '\0';
    struct winsize size = {24, 100, 0, 0};
    s->pid = forkpty(&s->fd, NULL, NULL, &size);
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        setenv("HOME", s->home, 1);
        setenv("TERM", "xterm", 1);
        unsetenv("LUA_INIT");
        unsetenv("LUA_INIT_5_4");
        execl(moonwatch_path, moonwatch_path, (char *)NULL);
        _exit(127);
    }
}

/* Reads what is available within timeout_ms; returns 0 at end of output. */
static int session_read(session *s, int timeout_ms)
{
    struct pollfd p = {s->fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0)
        return 1;
    if (s->len + 1 >= sizeof s->out)
        return 0;
    ssize_t n = read(s->fd, s->out + s->len, sizeof s->out - s->len - 1);
    if (n <= 0)
        return 0; /* EIO: the child closed the terminal */
    s->len += (size_t)n;
    s->out[s->len] = '\0';
    return 1;
}

static void session_dump(const session *s, const char *why)
{
    print_error("%s\n--- transcript (matched up to byte %zu) ---\n%s\n--- end ---\n", why,
                s->mark, s->out);
}

/* Waits for text in the output after the last match; fails the test with
 * the transcript if it does not come in time. */
static void session_expect(session *s, const char *text)
{
    long deadline = now_ms() + EXPECT_TIMEOUT_MS;
    for (;;) {
        char *at = strstr(s->out + s->mark, text);
        if (at != NULL) {
            s->mark = (size_t)(at - s->out) + strlen(text);
            return;
        }
        long left = deadline - now_ms();
        if (left <= 0 || !session_read(s, (int)(left < 100 ? left : 100))) {
            at = strstr(s->out + s->mark, text);
            if (at != NULL) {
                s->mark = (size_t)(at - s->out) + strlen(text);
                return;
            }
            char why[256];
            snprintf(why, sizeof why, "expected %.200s", text);
            session_dump(s, why);
            fail();
        }
    }
}

static void session_send(session *s, const char *keys)
{
    size_t len = strlen(keys);
    while (len > 0) {
        ssize_t n = write(s->fd, keys, len);
        assert_true(n > 0);
        keys += n;
        len -= (size_t)n;
    }
    pause_ms(KEY_PAUSE_MS);
    session_read(s, 0);
}

/* Whether text appears after the last match within timeout_ms (moving
 * the mark past it); never fails the test. */
static int session_seen(session *s, const char *text, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    for (;;) {
        char *at = strstr(s->out + s->mark, text);
        if (at != NULL) {
            s->mark = (size_t)(at - s->out) + strlen(text);
            return 1;
        }
        long left = deadline - now_ms();
        if (left <= 0 || !session_read(s, (int)(left < 50 ? left : 50)))
            return strstr(s->out + s->mark, text) != NULL;
    }
}

/* Ctrl-D. libedit prints the prompt before it puts the terminal in raw
 * mode, and a Ctrl-D the terminal sees in between is its own end-of-file
 * mark, which the switch to raw mode drops: a person is never that quick.
 * So the test waits a little, and on a loaded machine tries again until
 * the process ends (at most 20 times). */
static void session_eof(session *s)
{
    for (int i = 0; i < 20; i++) {
        pause_ms(150);
        session_send(s, "\x04");
        struct pollfd p = {s->fd, POLLIN, 0};
        long deadline = now_ms() + 400;
        while (now_ms() < deadline) {
            if (poll(&p, 1, 50) > 0 && !session_read(s, 0))
                return; /* the terminal closed: the process is ending */
            siginfo_t info;
            memset(&info, 0, sizeof info);
            /* Ended (not reaped: session_wait does that)? */
            if (waitid(P_PID, (id_t)s->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0
                && info.si_pid == s->pid)
                return;
        }
    }
}

/* Ctrl-C while a statement runs: sent again every half second until the
 * prompt reports the interruption (the first may come before the
 * statement started on a loaded machine); fails the test after 5 s. */
static void session_interrupt(session *s)
{
    for (int i = 0; i < 10; i++) {
        session_send(s, "\x03");
        if (session_seen(s, "interrupted!", 500))
            return;
    }
    session_dump(s, "expected interrupted!");
    fail();
}

/* Types a line (Enter is "\r", as a terminal sends it) and waits for
 * `want` in what follows, then for the next prompt. */
static void session_line(session *s, const char *line, const char *want)
{
    session_send(s, line);
    session_send(s, "\r");
    if (want != NULL)
        session_expect(s, want);
    session_expect(s, "> ");
}

/* Waits for the process to end; returns its exit status (or -1). */
static int session_wait(session *s)
{
    long deadline = now_ms() + EXPECT_TIMEOUT_MS;
    int status;
    while (now_ms() < deadline) {
        session_read(s, 50);
        pid_t got = waitpid(s->pid, &status, WNOHANG);
        if (got == s->pid) {
            s->pid = 0;
            for (int i = 0; i < 10 && session_read(s, 20); i++)
                ; /* what it wrote last, as a sanitizer's report */
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            if (code != 0)
                session_dump(s, "the process ended with an error");
            return code;
        }
    }
    session_dump(s, "the process did not end");
    return -1;
}

/* Ends the process, if it still runs, and closes its terminal. */
static void session_stop(session *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* Starts moonwatch and waits for its first prompt. */
static void session_ready(session *s)
{
    session_start(s);
    session_expect(s, "Lua.org, PUC-Rio");
    session_expect(s, "> ");
}

/* The fixture: a session (not started) with a fresh HOME directory. */
static int setup_session(void **state)
{
    session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    s->fd = -1;
    snprintf(s->home, sizeof s->home, "/tmp/mw-repl-XXXXXX");
    if (mkdtemp(s->home) == NULL) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown_session(void **state)
{
    session *s = *state;
    char command[128];
    session_stop(s);
    snprintf(command, sizeof command, "rm -rf '%s'", s->home);
    int status = system(command);
    free(s);
    return status == 0 ? 0 : -1;
}

/* {====================================================================
 * Tests
 * ===================================================================== */

static void test_multiline_and_printing(void **state)
{
    session *s = *state;
    session_ready(s);
    session_send(s, "function twice(a)\r");
    session_expect(s, ">> ");
    session_send(s, "return a * 2\r");
    session_expect(s, ">> ");
    session_line(s, "end", NULL);
    session_line(s, "twice(21)", "\r\n42\r\n");
    /* Several values, tab-separated; a table shallowly, in order. */
    session_line(s, "1, 'a', {1, 2, x = 3, t = {4}}", "1\ta\t{1, 2, t = {...}, x = 3}\r\n");
    session_line(s, "{}", "\r\n{}\r\n");
    /* A long table is cut and says how long it is. */
    session_line(s, "(function() local t = {} for i = 1, 100 do t[i] = i end return t end)()",
                 ", ... (100 items)}");
    session_send(s, "mw.series{1, 2, 3}\r");
    session_expect(s, "series(3, float64) [1, 2, 3]");
    session_expect(s, "min 1  max 3  mean 2");
    session_expect(s, "> ");
    session_line(s, "mw.frame{a = {1, 2}}", "frame(2 rows, 1 column)");
    session_line(s, "mw.detect.zscore{window = 10}", "zscore{window=10");
    /* An error: the message and a short traceback, without the prompt's
     * own frames; the session goes on. */
    session_line(s, "error('boom')", "stdin:1: boom\r\nstack traceback:\r\n\tstdin:1: in main chunk\r\n");
    session_line(s, "x = = 1", "unexpected symbol near '='");
    session_line(s, "twice(2)", "\r\n4\r\n");
    session_eof(s);
    assert_int_equal(session_wait(s), 0);
}

static void test_completion(void **state)
{
    session *s = *state;
    if (!has_line_editing)
        skip();
    session_ready(s);
    /* One candidate: completed in place. */
    session_send(s, "string.for\t");
    session_expect(s, "mat");
    session_line(s, "('%d', 42)", "\r\n42\r\n");
    /* A nested field of the module. */
    session_send(s, "mw.mem.sta\t");
    session_expect(s, "ts");
    session_line(s, "().lua > 0", "\r\ntrue\r\n");
    /* Several: the common part, then the list. */
    session_send(s, "mw.mem.re\t");
    session_expect(s, "set");
    session_send(s, "\t");
    session_expect(s, "reset_peak");
    session_expect(s, "resetpeak");
    session_send(s, "\x15"); /* kill the line */
    /* Methods of a handle, through its metatable's __index. */
    session_line(s, "s = mw.series{1, 2}", NULL);
    session_send(s, "s:cums\t");
    session_expect(s, "um");
    session_line(s, "():sum()", "\r\n4.0\r\n");
    session_line(s, "d = mw.detect.zscore{window = 10}", NULL);
    session_send(s, "d:upd\t");
    session_expect(s, "ate");
    session_send(s, "\x15");
    /* Globals, and file names inside a string. */
    session_send(s, "collectg\t");
    session_expect(s, "arbage");
    session_send(s, "\x15");
    char path[128];
    snprintf(path, sizeof path, "%s/data_file.csv", s->home);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    char typed[160];
    snprintf(typed, sizeof typed, "io.open(\"%s/data_f\t", s->home);
    session_send(s, typed);
    session_expect(s, "ile.csv");
    session_line(s, "\") ~= nil", "\r\ntrue\r\n");
    /* The : commands complete too. */
    session_send(s, ":pro\t");
    session_expect(s, "file");
    session_send(s, "\x15");
    session_eof(s);
    assert_int_equal(session_wait(s), 0);
}

static void test_commands(void **state)
{
    session *s = *state;
    session_ready(s);
    session_send(s, ":mem\r");
    session_expect(s, "lua ");
    session_expect(s, "native ");
    session_expect(s, "total ");
    session_expect(s, "allocations ");
    session_expect(s, "\n> ");
    session_line(s, "big = mw.series.zeros(100000)", NULL);
    session_line(s, "big = nil", NULL);
    session_line(s, ":gc", "native 781.");
    session_send(s, ":time #mw.series.zeros(1000)\r");
    session_expect(s, "1000\r\ntime ");
    session_expect(s, "allocated 8.");
    session_expect(s, "> ");
    session_line(s, ":profile local t = mw.series.zeros(1000)", "moonwatch memory profile");
    session_line(s, ":help", ":profile <code>");
    session_line(s, ":nope", "unknown command ':nope'");
    session_send(s, ":quit\r");
    assert_int_equal(session_wait(s), 0);
}

static void test_interrupt(void **state)
{
    session *s = *state;
    session_ready(s);
    session_line(s, "x = 41", NULL);
    session_send(s, "while true do end\r");
    pause_ms(300);
    session_interrupt(s);
    session_expect(s, "\n> ");
    /* The state is intact, and a second interrupt works as well. */
    session_line(s, "x + 1", "\r\n42\r\n");
    session_send(s, "for i = 1, math.huge do x = i end\r");
    pause_ms(300);
    session_interrupt(s);
    session_expect(s, "\n> ");
    session_line(s, "x > 41", "\r\ntrue\r\n");
    /* Ctrl-C at the prompt drops the line, also inside a statement. */
    session_send(s, "abc");
    session_send(s, "\x03");
    session_expect(s, "\n> ");
    session_send(s, "if true then\r");
    session_expect(s, ">> ");
    session_send(s, "\x03");
    session_expect(s, "\n> ");
    session_line(s, "'still here'", "\r\nstill here\r\n");
    session_eof(s);
    assert_int_equal(session_wait(s), 0);
}

static void test_history(void **state)
{
    session *s = *state;
    if (!has_line_editing)
        skip();
    session_ready(s);
    session_line(s, "'hist' .. 123", "\r\nhist123\r\n");
    session_eof(s);
    assert_int_equal(session_wait(s), 0);
    session_stop(s);

    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/.moonwatch_history", s->home);
    assert_int_equal(stat(path, &st), 0);

    /* A second session finds it: up-arrow brings the line back. */
    session_ready(s);
    session_send(s, "\x1b[A");
    session_expect(s, "'hist' .. 123");
    session_send(s, "\r");
    session_expect(s, "\r\nhist123\r\n");
    session_eof(s);
    assert_int_equal(session_wait(s), 0);
}

static void test_ctrl_d_exits(void **state)
{
    session *s = *state;
    session_ready(s);
    /* Ctrl-D exits only on an empty line. */
    session_eof(s);
    assert_int_equal(session_wait(s), 0);
}

/* }==================================================================== */

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_repl <moonwatch> <edit|plain>\n");
        return 2;
    }
    moonwatch_path = argv[1];
    has_line_editing = strcmp(argv[2], "edit") == 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_multiline_and_printing, setup_session, teardown_session),
        cmocka_unit_test_setup_teardown(test_completion, setup_session, teardown_session),
        cmocka_unit_test_setup_teardown(test_commands, setup_session, teardown_session),
        cmocka_unit_test_setup_teardown(test_interrupt, setup_session, teardown_session),
        cmocka_unit_test_setup_teardown(test_history, setup_session, teardown_session),
        cmocka_unit_test_setup_teardown(test_ctrl_d_exits, setup_session, teardown_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
