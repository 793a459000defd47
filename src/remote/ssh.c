#include "remote/ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/time.h"

int rmt_quote_append(char **buf, const char *word)
{
	size_t len = *buf ? strlen(*buf) : 0, extra = 3;

	for (const char *p = word; *p; p++)
		extra += *p == '\'' ? 4 : 1;
	char *n = realloc(*buf, len + extra + 1);
	if (!n)
		return -1;
	*buf = n;
	n += len;
	if (len)
		*n++ = ' ';
	*n++ = '\'';
	for (const char *p = word; *p; p++) {
		if (*p == '\'') {
			memcpy(n, "'\\''", 4);
			n += 4;
		} else {
			*n++ = *p;
		}
	}
	*n++ = '\'';
	*n = '\0';
	return 0;
}

char *rmt_command(const char *remote_netlab, char *const *args, size_t nargs)
{
	char *cmd = NULL;

	if (remote_netlab && *remote_netlab) {
		cmd = strdup(remote_netlab);
	} else {
		/* "The same path": this netlab's own. */
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return NULL;
		self[n] = '\0';
		if (rmt_quote_append(&cmd, self) < 0)
			return NULL;
	}
	for (size_t i = 0; cmd && i < nargs; i++)
		if (rmt_quote_append(&cmd, args[i]) < 0) {
			free(cmd);
			return NULL;
		}
	return cmd;
}

void rmt_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

char **rmt_ssh_argv(const struct topo_machine *m, const char *command, bool tty)
{
	const char *user = getenv("NETLAB_SSH");
	char **v = calloc(20, sizeof(*v));
	size_t n = 0;
	bool ok = v != NULL;

#define ADD(s)                                          \
	do {                                            \
		if (ok && !(v[n++] = strdup(s)))        \
			ok = false;                     \
	} while (0)
	if (user && *user) {
		char *script = NULL;
		ADD("/bin/sh");
		ADD("-c");
		if (ok && asprintf(&script, "%s \"$@\"", user) < 0)
			ok = false;
		if (ok)
			v[n++] = script;
		ADD("netlab-ssh");
	} else {
		ADD("ssh");
	}
	/* Never a password or passphrase prompt; a dead connection is
	 * noticed within 45 s rather than TCP's minutes. */
	ADD("-o");
	ADD("BatchMode=yes");
	ADD("-o");
	ADD("ConnectTimeout=10");
	ADD("-o");
	ADD("ServerAliveInterval=15");
	ADD("-o");
	ADD("ServerAliveCountMax=3");
	ADD(tty ? "-t" : "-T");
	if (ok && m->user) {
		ADD("-l");
		ADD(m->user);
	}
	ADD(m->host);
	ADD(command);
#undef ADD
	if (!ok) {
		rmt_argv_free(v);
		return NULL;
	}
	return v;
}

void rmt_machine_label(const struct topo_machine *m, char *buf, size_t len)
{
	snprintf(buf, len, "%s (%s%s%s)", m->name, m->user ? m->user : "", m->user ? "@" : "", m->host);
}

int rmt_exec(const struct topo_machine *m, const char *command, bool tty, nlab_error **err)
{
	char **argv = rmt_ssh_argv(m, command, tty);

	if (!argv)
		return nlab_error_set(err, ENOMEM, "ssh command line");
	fflush(NULL);
	execvp(argv[0], argv);
	int e = errno;
	nlab_error_set(err, e, "run %s", argv[0]);
	rmt_argv_free(argv);
	return -1;
}

/* ---- sessions ----------------------------------------------------------- */

volatile sig_atomic_t rmt_interrupted;

int rmt_session_start(struct rmt_session *s, const char *command, nlab_error **err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	char **argv = rmt_ssh_argv(s->m, command, false);

	s->in = s->out = s->errfd = -1;
	s->pid = 0;
	if (!argv)
		return nlab_error_set(err, ENOMEM, "ssh command line");
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0)
				close(in[i]);
			if (out[i] >= 0)
				close(out[i]);
			if (er[i] >= 0)
				close(er[i]);
		}
		rmt_argv_free(argv);
		return nlab_error_set(err, e, "pipe");
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(er[1], 2);
		signal(SIGPIPE, SIG_DFL);
		/* Its own process group: Ctrl-C reaches netlab, which then
		 * rolls back in order, not ssh, which would just vanish. */
		setpgid(0, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "netlab: run %s: %s\n", argv[0], strerror(errno));
		_exit(255);
	}
	int e = errno;
	rmt_argv_free(argv);
	close(in[0]);
	close(out[1]);
	close(er[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		close(er[0]);
		return nlab_error_set(err, e, "fork");
	}
	s->pid = pid;
	s->in = in[1];
	s->out = out[0];
	s->errfd = er[0];
	s->len = s->tlen = 0;
	s->eof = false;
	s->line = NULL;
	return 0;
}

int rmt_session_send(struct rmt_session *s, json_object *msg)
{
	const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	int r = 0;

	if (s->in < 0)
		return -1;
	/* SIGPIPE is ignored by the caller: a machine that went away is an
	 * EPIPE here and an end of file on its output. */
	if (write_all(s->in, text, strlen(text)) < 0 || write_all(s->in, "\n", 1) < 0)
		r = -1;
	return r;
}

void rmt_session_close_input(struct rmt_session *s)
{
	if (s->in >= 0)
		close(s->in);
	s->in = -1;
}

/* A whole line in the buffer: parse and remove it.  Lines that are not a
 * JSON object (a login banner) are skipped. */
static bool take_line(struct rmt_session *s)
{
	for (;;) {
		char *nl = s->len ? memchr(s->buf, '\n', s->len) : NULL;
		if (!nl)
			return false;
		*nl = '\0';
		json_object *o = json_tokener_parse(s->buf);
		size_t used = (size_t)(nl - s->buf) + 1;
		memmove(s->buf, nl + 1, s->len - used);
		s->len -= used;
		if (o && json_object_is_type(o, json_type_object)) {
			s->line = o;
			return true;
		}
		json_object_put(o);
	}
}

static void read_err(struct rmt_session *s)
{
	char b[512];
	ssize_t n = read(s->errfd, b, sizeof(b));

	if (n <= 0) {
		if (n == 0 || errno != EINTR) {
			close(s->errfd);
			s->errfd = -1;
		}
		return;
	}
	/* Keep the last bytes: the message that matters comes last. */
	if (s->tlen + (size_t)n >= sizeof(s->tail)) {
		size_t drop = s->tlen + (size_t)n - (sizeof(s->tail) - 1);
		memmove(s->tail, s->tail + drop, s->tlen - drop);
		s->tlen -= drop;
	}
	memcpy(s->tail + s->tlen, b, (size_t)n);
	s->tlen += (size_t)n;
	s->tail[s->tlen] = '\0';
}

static void read_out(struct rmt_session *s)
{
	if (s->cap - s->len < 65536) {
		size_t cap = s->cap ? s->cap * 2 : 131072;
		char *n = realloc(s->buf, cap);
		if (!n) {
			s->eof = true;
			return;
		}
		s->buf = n;
		s->cap = cap;
	}
	ssize_t n = read(s->out, s->buf + s->len, s->cap - s->len - 1);
	if (n > 0) {
		s->len += (size_t)n;
		return;
	}
	if (n < 0 && errno == EINTR)
		return;
	close(s->out);
	s->out = -1;
	s->eof = true;
}

static void reap(struct rmt_session *s, bool block)
{
	int st;

	if (!s->pid)
		return;
	pid_t r;
	while ((r = waitpid(s->pid, &st, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == s->pid) {
		s->status = st;
		s->pid = 0;
	}
}

void rmt_sessions_wait(struct rmt_session *s, size_t n, const bool *want, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pollfd *p = calloc(2 * n + 1, sizeof(*p));

	for (size_t i = 0; i < n; i++) {
		json_object_put(s[i].line);
		s[i].line = NULL;
	}
	if (!p)
		return;
	for (;;) {
		bool pending = false;
		size_t np = 0;
		for (size_t i = 0; i < n; i++) {
			if (want[i] && !s[i].line && !take_line(&s[i]) && !s[i].eof)
				pending = true;
			p[2 * i] = (struct pollfd){ .fd = want[i] && !s[i].line ? s[i].out : -1, .events = POLLIN };
			p[2 * i + 1] = (struct pollfd){ .fd = s[i].errfd, .events = POLLIN };
			np = 2 * i + 2;
		}
		if (!pending)
			break;
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left <= 0)
			break;
		int r = poll(p, np, deadline < 0 ? -1 : (int)left);
		if ((r < 0 && errno != EINTR) || rmt_interrupted)
			break;
		for (size_t i = 0; r > 0 && i < n; i++) {
			if (p[2 * i + 1].revents)
				read_err(&s[i]);
			if (p[2 * i].revents)
				read_out(&s[i]);
		}
	}
	/* Those that ended: their stderr to its end, and their status. */
	for (size_t i = 0; i < n; i++) {
		if (!want[i] || s[i].line || !s[i].eof)
			continue;
		while (s[i].errfd >= 0)
			read_err(&s[i]);
		reap(&s[i], true);
	}
	free(p);
}

void rmt_sessions_drain(struct rmt_session *s, size_t n, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pollfd *p = calloc(2 * n + 1, sizeof(*p));

	while (p && !rmt_interrupted) {
		bool open = false;
		for (size_t i = 0; i < n; i++) {
			p[2 * i] = (struct pollfd){ .fd = s[i].out, .events = POLLIN };
			p[2 * i + 1] = (struct pollfd){ .fd = s[i].errfd, .events = POLLIN };
			open = open || s[i].out >= 0 || s[i].errfd >= 0;
		}
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		if (!open || (deadline >= 0 && left <= 0))
			break;
		int r = poll(p, 2 * n, deadline < 0 ? -1 : (int)left);
		if (r < 0 && errno != EINTR)
			break;
		for (size_t i = 0; r > 0 && i < n; i++) {
			if (p[2 * i + 1].revents)
				read_err(&s[i]);
			if (p[2 * i].revents)
				read_out(&s[i]);
		}
	}
	free(p);
	for (size_t i = 0; i < n; i++) {
		if (s[i].buf)
			s[i].buf[s[i].len] = '\0';
		if (s[i].out < 0 && s[i].errfd < 0)
			reap(&s[i], true);
	}
}

void rmt_session_end(struct rmt_session *s, int grace_ms)
{
	rmt_session_close_input(s);
	if (s->out >= 0)
		close(s->out);
	s->out = -1;
	int64_t until = now_ms() + grace_ms;
	while (s->errfd >= 0 && now_ms() < until) {
		struct pollfd p = { .fd = s->errfd, .events = POLLIN };
		if (poll(&p, 1, (int)(until - now_ms())) <= 0)
			break;
		read_err(s);
	}
	if (s->errfd >= 0)
		close(s->errfd);
	s->errfd = -1;
	while (s->pid && now_ms() < until) {
		reap(s, false);
		if (s->pid)
			poll(NULL, 0, 20);
	}
	if (s->pid) {
		kill(s->pid, SIGTERM);
		reap(s, true);
	}
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
	json_object_put(s->line);
	s->line = NULL;
}

void rmt_session_why(const struct rmt_session *s, char *buf, size_t len)
{
	/* The last non-empty line of its stderr. */
	char tail[sizeof(s->tail)];
	snprintf(tail, sizeof(tail), "%s", s->tail);
	size_t t = strlen(tail);
	while (t && (tail[t - 1] == '\n' || tail[t - 1] == '\r'))
		tail[--t] = '\0';
	char *last = strrchr(tail, '\n');
	last = last ? last + 1 : tail;
	if (s->pid)
		snprintf(buf, len, "no answer%s%s", *last ? ": " : "", last);
	else if (WIFEXITED(s->status) && WEXITSTATUS(s->status) == 255)
		snprintf(buf, len, "ssh failed%s%s", *last ? ": " : "", last);
	else if (WIFEXITED(s->status))
		snprintf(buf, len, "its netlab exited with %d%s%s", WEXITSTATUS(s->status), *last ? ": " : "", last);
	else
		snprintf(buf, len, "ssh was killed by signal %d", WTERMSIG(s->status));
}
