/* Unit tests of a node's view (src/node/view.c): what the supervisor packs
 * for the lab's spawner arrives whole after a move to other memory, names
 * nothing outside itself, and a damaged block is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "node/nodefs.h"
#include "node/view.h"
#include "plan/plan.h"
#include "topo_test.h"

static const char *const view_src =
	"lab v\n"
	"node h\n"
	"    hostname www1.example.test\n"
	"    env GREETING=\"hello world\"\n"
	"    env EMPTY=\n"
	"    user nobody\n"
	"    monotonic 1000\n"
	"    memory 64M\n"
	"    tmpfs /mnt 1M\n"
	"    mount /usr /opt ro\n"
	"    exec echo first\n"
	"    run sleep 100\n"
	"    wait tcp 8080 timeout 5\n"
	"    ip eth0 dhcp\n"
	"node other\n"
	"    exec echo not mine\n"
	"link h:eth0 other:eth0\n";

struct fixture {
	struct checked c;
	struct plan p;
	struct nodefs_top tops[2];
	struct node_spec spec;
	struct node_view_make make;
};

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	nlab_error *err = NULL;

	assert_non_null(f);
	check_valid(view_src, &f->c);
	assert_int_equal(plan_build(f->c.t, "v", &f->p, &err), 0);
	snprintf(f->tops[0].name, sizeof(f->tops[0].name), "usr");
	snprintf(f->tops[1].name, sizeof(f->tops[1].name), "bin");
	f->tops[1].kind = NODEFS_TOP_LINK;
	snprintf(f->tops[1].link, sizeof(f->tops[1].link), "usr/bin");
	const struct topo_node *n = topo_find_node(f->c.t, "h");
	f->spec = (struct node_spec){ .t = f->c.t, .plan = &f->p, .node = n, .index = (size_t)(n - f->c.t->nodes.v),
				      .lab = "v", .lab_dir = "/run/netlab/v", .uid_base = 65536, .gid_base = 65536,
				      .tops = f->tops, .ntops = 2, .hosts_path = "/run/netlab/v/hosts",
				      .grace_ms = 1500, .line_timeout_ms = 7000 };
	static char cg0[] = "/sys/fs/cgroup/pids/netlab/v/h", cg1[] = "/sys/fs/cgroup/memory/netlab/v/h";
	f->make = (struct node_view_make){ .userns = true, .tmpl = true, .uid_base = 65536, .gid_base = 65536,
					   .ncgroups = 2, .cgroups = { cg0, cg1 } };
	return f;
}

static void teardown(struct fixture *f)
{
	plan_free(&f->p);
	checked_free(&f->c);
	free(f);
}

/* Packed, copied elsewhere (as the spawner receives it) and the original
 * wiped: every pointer of the placed view lies inside the copy. */
static struct node_view *moved(struct fixture *f, size_t *size)
{
	nlab_error *err = NULL;
	struct node_view *v = node_view_pack(&f->spec, &f->make, size, &err);

	assert_null(err);
	assert_non_null(v);
	struct node_view *w = malloc(*size);
	assert_non_null(w);
	memcpy(w, v, *size);
	memset(v, 0xa5, *size);
	free(v);
	assert_int_equal(node_view_place(w, *size), 0);
	return w;
}

static bool inside(const struct node_view *v, size_t size, const void *p)
{
	return (const char *)p >= (const char *)v && (const char *)p < (const char *)v + size;
}

static void test_whole(void **state)
{
	(void)state;
	struct fixture *f = setup();
	size_t size;
	struct node_view *v = moved(f, &size);
	const struct node_spec *s = &v->spec;

	/* How to make it. */
	assert_true(v->make.userns && v->make.tmpl && !v->make.setgroups_deny);
	assert_int_equal(v->make.uid_base, 65536);
	assert_int_equal(v->make.ncgroups, 2);
	assert_string_equal(v->make.cgroups[1], "/sys/fs/cgroup/memory/netlab/v/h");
	assert_true(inside(v, size, v->make.cgroups[0]));
	/* The lab. */
	assert_string_equal(s->lab, "v");
	assert_string_equal(s->lab_dir, "/run/netlab/v");
	assert_string_equal(s->hosts_path, "/run/netlab/v/hosts");
	assert_null(s->alternatives_path);
	assert_int_equal(s->ctl_fd, 3);
	assert_int_equal(s->log_fd, 4);
	assert_int_equal(s->grace_ms, 1500);
	assert_int_equal(s->line_timeout_ms, 7000);
	assert_int_equal(s->ntops, 2);
	assert_true(inside(v, size, s->tops));
	assert_string_equal(s->tops[1].link, "usr/bin");
	assert_true(inside(v, size, s->t));
	assert_string_equal(s->t->file, TEST_FILE);
	assert_true(topo_node_userns(s->t, s->node));
	/* The node. */
	const struct topo_node *n = s->node;
	assert_true(inside(v, size, n));
	assert_string_equal(n->name, "h");
	assert_string_equal(n->hostname, "www1.example.test");
	assert_true(n->has_user);
	assert_string_equal(n->user, "nobody");
	assert_null(n->group);
	assert_null(n->rootfs);
	assert_true(n->has_monotonic);
	assert_int_equal(n->monotonic_s, 1000);
	assert_int_equal(n->memory_bytes, 64 << 20);
	assert_int_equal(n->envs.n, 2);
	assert_string_equal(n->envs.v[0].key, "GREETING");
	assert_string_equal(n->envs.v[0].value, "hello world");
	assert_string_equal(n->envs.v[1].value, "");
	/* Nothing the init does not read. */
	assert_int_equal(n->ifaces.n, 0);
	assert_null(n->cmds.v);
	assert_null(n->mounts.v);
	/* Its operations: its mounts, then its lines, and no one else's. */
	const struct plan_node_ops *no = &s->plan->nodes[s->index];
	assert_int_equal(s->index, 0);
	assert_int_equal(no->nmounts, 2);
	assert_int_equal(no->ncmds, 4);
	assert_int_equal(s->plan->nops, 6);
	const struct plan_op *op = &s->plan->ops[no->mounts];
	assert_int_equal(op[0].kind, OP_MOUNT);
	assert_true(op[0].mount->tmpfs);
	assert_string_equal(op[0].mount->dst, "/mnt");
	assert_int_equal(op[0].mount->size, 1 << 20);
	assert_string_equal(op[1].mount->src, "/usr");
	assert_string_equal(op[1].mount->dst, "/opt");
	assert_true(op[1].mount->ro);
	op = &s->plan->ops[no->cmds];
	assert_int_equal(op[0].kind, OP_EXEC);
	assert_string_equal(op[0].cmd->text, "echo first");
	assert_int_equal(op[0].line, 11);
	assert_int_equal(op[1].kind, OP_RUN);
	assert_string_equal(op[1].cmd->text, "sleep 100");
	assert_int_equal(op[2].kind, OP_WAIT);
	assert_int_equal(op[2].cmd->port, 8080);
	assert_int_equal(op[2].cmd->timeout_s, 5);
	assert_int_equal(op[3].kind, OP_DHCP);
	assert_string_equal(op[3].cmd->ifname, "eth0");
	for (size_t i = 0; i < s->plan->nops; i++)
		assert_true(inside(v, size, s->plan->ops[i].cmd));
	free(v);
	teardown(f);
}

/* A block cut short, from another program, or pointing out of itself is
 * refused. */
static void test_damaged(void **state)
{
	(void)state;
	struct fixture *f = setup();
	nlab_error *err = NULL;
	size_t size;
	struct node_view *v = node_view_pack(&f->spec, &f->make, &size, &err);
	assert_non_null(v);
	struct node_view *w = malloc(size);
	assert_non_null(w);

	memcpy(w, v, size);
	assert_int_equal(node_view_place(w, size - 1), -1);
	memcpy(w, v, size);
	w->magic++;
	assert_int_equal(node_view_place(w, size), -1);
	memcpy(w, v, size);
	w->node.name = (char *)(uintptr_t)(size + 64);
	assert_int_equal(node_view_place(w, size), -1);
	/* A string without its end inside the block. */
	memcpy(w, v, size);
	w->spec.lab = (char *)(uintptr_t)(size - 1);
	((char *)w)[size - 1] = 'x';
	assert_int_equal(node_view_place(w, size), -1);
	/* A count whose bytes would wrap around. */
	memcpy(w, v, size);
	w->node.envs.n = SIZE_MAX / 2;
	assert_int_equal(node_view_place(w, size), -1);
	memcpy(w, v, size);
	w->make.ncgroups = SPAWN_MAX_CGROUPS + 1;
	assert_int_equal(node_view_place(w, size), -1);
	/* And the untouched copy is whole. */
	memcpy(w, v, size);
	assert_int_equal(node_view_place(w, size), 0);
	assert_string_equal(w->spec.node->name, "h");
	free(w);
	free(v);
	teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
