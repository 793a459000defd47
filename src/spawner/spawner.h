/* The lab's spawner: a process of its own that makes the lab's nodes'
 * processes (node/spawn.c) for the supervisor while `up` makes them.
 *
 * An init is a copy of the process that makes it.  Made by the
 * supervisor, each init was a copy of the whole lab's topology, plan and
 * state: at 10,000 nodes, tens of megabytes mapped into every init,
 * copied at each clone under the supervisor's memory lock and shared
 * afterwards by thousands of processes, whose reverse-map walks grow with
 * them (docs/scale.md).  The spawner is the netlab binary executed anew
 * (its memory starts empty), so an init copies a few pages and its own
 * node's view (node/view.h).
 *
 * The supervisor starts it with posix_spawn() (supervisor/nodespawn.c),
 * its channel as SPAWNER_FD and, when the lab has a node template, the
 * template's mount namespace as SPAWNER_TMPL_FD.  Its stage 1s and so the
 * inits are the supervisor's children (CLONE_PARENT): the supervisor
 * reaps them and signals them, as before.  It dies with the supervisor
 * (PR_SET_PDEATHSIG) and exits when the supervisor closes its end. */
#ifndef NETLAB_SPAWNER_SPAWNER_H
#define NETLAB_SPAWNER_SPAWNER_H

#define SPAWNER_ARGV0 "netlab-spawner"
#define SPAWNER_FD 3
#define SPAWNER_TMPL_FD 4

/* argv: SPAWNER_ARGV0 SUPERVISOR-PID HAS-TEMPLATE(0|1).  Its exit status. */
int spawner_main(int argc, char **argv);

#endif
